//! CSV export, parsed back and checked against the JSON endpoints: daily figures, a whole
//! ranking, and the raw events in linked parts.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode, header};
use pingoo::events::Event;
use pingoo_stack::testkit::{Reply, TestApp};
use serde_json::Value;
use support::{at, day, event, put};

async fn get(app: &TestApp, token: &str, path: &str) -> Reply {
    app.call(Method::GET, path, Some(token), None).await
}

/// The CSV body's rows (header first), after checking the BOM.
fn parse(reply: &Reply) -> Vec<Vec<String>> {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let text = reply.body.as_str().expect("a CSV body");
    let text = text.strip_prefix('\u{feff}').expect("a UTF-8 BOM first");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn every_kind_parses_back_to_what_the_json_endpoints_say() {
    let app = support::streaming().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let mut events: Vec<Event> = Vec::new();
    for (d, n) in [(15, 3), (17, 4)] {
        for i in 0..n {
            let url = if i == 1 {
                "=HYPERLINK(\"x\")"
            } else {
                "/长春/页"
            };
            events.push(event(
                &site,
                at(day(2025, 9, d), 100 + i64::from(i)),
                &format!("s{d}{}", i % 2),
                "203.0.113.1",
                url,
                "page_view",
            ));
        }
    }
    put(&app.state.db, &events).await;
    let id = site.id;
    let range = "start_date=20250915&end_date=20250917";
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let b = get(
            &app,
            &token,
            &format!("/api/events/{id}/breakdown?{range}&stat_types=url"),
        )
        .await;
        let s = get(&app, &token, &format!("/api/events/{id}/summary?{range}")).await;
        let urls: u64 = b.body["data"]["url"]["list"]
            .as_array()
            .map(|l| l.iter().map(|r| r["count"].as_u64().unwrap_or(0)).sum())
            .unwrap_or(0);
        if urls == 7 && s.body["data"]["pv"] == 7 {
            break;
        }
        assert!(Instant::now() < deadline, "never counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Daily: one row a day, zeros included, as the summaries say.
    let reply = get(
        &app,
        &token,
        &format!("/api/events/{id}/export?{range}&kind=daily"),
    )
    .await;
    assert_eq!(
        reply.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"example.com-daily-20250915-20250917.csv\""
    );
    let rows = parse(&reply);
    assert_eq!(
        rows[0],
        [
            "date",
            "pv",
            "uv",
            "ip_count",
            "event_count",
            "bounce_rate",
            "avg_duration"
        ]
    );
    assert_eq!(rows.len(), 4);
    for (row, d) in rows[1..].iter().zip(["20250915", "20250916", "20250917"]) {
        let s: Value = get(&app, &token, &format!("/api/events/{id}/summary?date={d}"))
            .await
            .body["data"]
            .clone();
        assert_eq!(row[0].replace('-', ""), d);
        for (i, field) in [
            "pv",
            "uv",
            "ip_count",
            "event_count",
            "bounce_rate",
            "avg_duration",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(row[i + 1], s[field].to_string(), "{d} {field}");
        }
    }
    assert_eq!(rows[2][1], "0", "a day without data is zeros");

    // A ranking: every key, as the JSON ranking; formula cells defused.
    let reply = get(
        &app,
        &token,
        &format!("/api/events/{id}/export?{range}&kind=ranking&stat_type=url"),
    )
    .await;
    let rows = parse(&reply);
    let json = get(
        &app,
        &token,
        &format!("/api/events/{id}/stats?{range}&page_size=100"),
    )
    .await;
    let expected: Vec<Vec<String>> = json.body["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = r["key"].as_str().unwrap();
            let key = if key.starts_with('=') {
                format!("'{key}")
            } else {
                key.to_owned()
            };
            vec![key, r["count"].to_string()]
        })
        .collect();
    assert_eq!(rows[0], ["key", "count"]);
    assert_eq!(rows[1..].to_vec(), expected);
    assert!(
        rows.iter().any(|r| r[0] == "/长春/页"),
        "Chinese text intact"
    );

    // Raw events in parts of 3, newest first, linked by the event list's cursor.
    let mut path = format!("/api/events/{id}/export?{range}&kind=events&page_size=3");
    let mut ids = Vec::new();
    let mut parts = 0;
    loop {
        let reply = get(&app, &token, &path).await;
        let rows = parse(&reply);
        assert_eq!(rows[0][0], "id");
        assert_eq!(rows[0].len(), 20);
        for row in &rows[1..] {
            ids.push(row[0].parse::<u64>().unwrap());
            if row[5].contains("HYPERLINK") {
                assert!(row[5].starts_with("'="), "{row:?}");
            }
        }
        parts += 1;
        match reply.headers.get(header::LINK) {
            Some(link) => {
                let link = link.to_str().unwrap();
                let next = link
                    .strip_prefix('<')
                    .and_then(|l| l.split_once(">; rel=\"next\""))
                    .map(|(p, _)| p.to_owned())
                    .unwrap();
                path = next;
            }
            None => break,
        }
    }
    assert_eq!(parts, 3);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let unique: BTreeSet<u64> = ids.iter().copied().collect();
    let stored: BTreeSet<u64> = events.iter().map(|e| e.id).collect();
    assert_eq!(unique, stored);
    assert_eq!(ids.len(), 7);

    for (query, name) in [
        ("kind=pdf", "kind"),
        ("kind=ranking&stat_type=nope", "stat_type"),
        ("kind=events&page_size=0", "page_size"),
        ("kind=events&cursor=junk", "cursor"),
        ("date=20250915&start_date=20250915", "date"),
    ] {
        let msg = get(&app, &token, &format!("/api/events/{id}/export?{query}"))
            .await
            .expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.contains(name), "{query}: {msg}");
    }
    let (other, _) = app.user("other@example.com").await;
    get(&app, &other, &format!("/api/events/{id}/export"))
        .await
        .expect_error(StatusCode::FORBIDDEN);
}
