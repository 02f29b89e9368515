//! A site's days, hours, weeks and months are its own time zone's, far from UTC on either
//! side: the event list's date bounds and the counters (through DynamoDB Local's stream and
//! the aggregator) put events one second apart on the two sides of a local midnight that
//! is also a Monday and the first of a month.

mod support;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, TimeZone, Utc};
use pingoo::stats::aggregate::Aggregator;
use serde_json::Value;
use support::*;

/// The figures of one summary that the test pins.
#[derive(Debug, PartialEq)]
struct Figures {
    pv: u64,
    week_pv: u64,
    month_pv: u64,
    /// `(hour, page views)` of the hours that have any.
    hours: Vec<(u64, u64)>,
}

fn figures(summary: &Value) -> Figures {
    let n = |key: &str| {
        summary[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key}: {summary}"))
    };
    Figures {
        pv: n("pv"),
        week_pv: n("week_pv"),
        month_pv: n("month_pv"),
        hours: summary["hourly_stats"]
            .as_array()
            .expect("hourly_stats")
            .iter()
            .map(|h| (h["hour"].as_u64().unwrap(), h["count"].as_u64().unwrap()))
            .filter(|(_, count)| *count > 0)
            .collect(),
    }
}

#[tokio::test]
async fn dates_are_read_in_the_sites_timezone() {
    let w = world().await;
    let (token, _) = w.app.user("zones@example.com").await;
    // 2025-12-01 is a Monday.
    let zones = ["Asia/Shanghai", "Etc/GMT+12"];
    let mut sites = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        let site = w
            .app
            .site_in(&token, &format!("zone{i}.example.com"), Some(zone))
            .await;
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let midnight: DateTime<Utc> = tz
            .with_ymd_and_hms(2025, 12, 1, 0, 0, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc);
        // Sunday 23:59:59, Monday 00:00:00 and Monday 10:30 local time.
        let events = [
            event(
                &site,
                midnight - Duration::seconds(1),
                "a",
                "203.0.113.1",
                "/sun",
                "page_view",
            ),
            event(&site, midnight, "b", "203.0.113.2", "/mon", "page_view"),
            event(
                &site,
                midnight + Duration::minutes(630),
                "c",
                "203.0.113.3",
                "/mon",
                "page_view",
            ),
        ];
        put(&w.app.state.db, &events).await;
        sites.push((zone, site));
    }
    Aggregator::new(w.app.state.db.clone())
        .apply(&stream_events(&w).await)
        .await
        .unwrap();

    for (zone, site) in &sites {
        let get = |path: String| {
            let app = &w.app;
            let token = &token;
            async move {
                app.call(Method::GET, &path, Some(token), None)
                    .await
                    .expect(StatusCode::OK)["data"]
                    .clone()
            }
        };
        let list = |query: &str| get(format!("/api/events/{}?{query}", site.id));
        let urls = |list: &Value| -> Vec<String> {
            let mut urls: Vec<String> = list["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["url"].as_str().unwrap().to_owned())
                .collect();
            urls.sort();
            urls
        };
        // The event list: whole local days, in both date formats.
        let sunday = list("start_time=20251130&end_time=2025-11-30").await;
        assert_eq!(urls(&sunday), ["/sun"], "{zone}: {sunday}");
        let monday = list("start_time=2025-12-01&end_time=20251201").await;
        assert_eq!(urls(&monday), ["/mon", "/mon"], "{zone}: {monday}");

        // The counters: the day, its hours, and the Monday week and month it opens.
        let summary = |date: &str| get(format!("/api/events/{}/summary?date={date}", site.id));
        assert_eq!(
            figures(&summary("2025-11-30").await),
            Figures {
                pv: 1,
                week_pv: 1,
                month_pv: 1,
                hours: vec![(23, 1)],
            },
            "{zone}: Sunday"
        );
        assert_eq!(
            figures(&summary("2025-12-01").await),
            Figures {
                pv: 2,
                week_pv: 2,
                month_pv: 2,
                hours: vec![(0, 1), (10, 1)],
            },
            "{zone}: Monday"
        );
        let monday_urls = get(format!(
            "/api/events/{}/stats?stat_type=url&date=2025-12-01",
            site.id
        ))
        .await;
        assert_eq!(
            monday_urls["list"][0]["key"], "/mon",
            "{zone}: {monday_urls}"
        );
        assert_eq!(monday_urls["list"][0]["count"], 2);
        assert_eq!(monday_urls["total"], 1);
    }
}
