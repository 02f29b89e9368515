//! `RETENTION_DAYS`: raw events carry a TTL, and the event list, the CSV export and the
//! recount ignore events past the retention or past their TTL (DynamoDB deletes expired
//! items only up to days later, so they are still in the table here), while the recount
//! refuses days whose raw events are gone.

mod support;

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use pingoo::events::Event;
use pingoo::events::retention::Retention;
use pingoo::stats::recount::{self, Mode, RecountError};
use pingoo::store::Db;
use pingoo_stack::testkit::TestApp;
use support::event;

const KEPT_DAYS: u32 = 60;

#[tokio::test]
async fn expired_and_out_of_retention_events_are_invisible_to_list_export_and_recount() {
    let app = TestApp::with_config(pingoo_local::app, |c| {
        c.retention = Retention::days(KEPT_DAYS)
    })
    .await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let db = &app.state.db;
    let now = Utc::now();
    let live_at = now - Duration::days(2);
    let tz = chrono_tz::UTC;
    let live_day = live_at.with_timezone(&tz).date_naive();
    let batch = |at: chrono::DateTime<Utc>, n: usize, tag: &str| -> Vec<Event> {
        (0..n)
            .map(|i| {
                event(
                    &site,
                    at + Duration::seconds(i as i64),
                    &format!("{tag}{i}"),
                    "203.0.113.1",
                    &format!("/{tag}"),
                    "page_view",
                )
            })
            .collect()
    };
    // Kept: two days old, under the 60-day retention.
    let live = batch(live_at, 4, "live");
    db.put_events_bulk(&live).await.unwrap();
    // Same day, but written while the retention was one day: their TTL passed yesterday
    // and DynamoDB has not deleted them yet.
    let short = Db::new(db.client.clone(), db.tables.clone()).with_retention(Retention::days(1));
    short
        .put_events_bulk(&batch(live_at + Duration::minutes(5), 2, "expired"))
        .await
        .unwrap();
    // Ninety days old, written while events were kept forever (no TTL at all).
    let forever = Db::new(db.client.clone(), db.tables.clone());
    let old_at = now - Duration::days(90);
    forever
        .put_events_bulk(&batch(old_at, 3, "old"))
        .await
        .unwrap();

    // The TTL attribute: the event's own time plus the retention, in Unix seconds.
    let item = db
        .client
        .get_item()
        .table_name(&db.tables.events)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(pingoo::store::event_partition(
                site.id,
                site.generation,
                pingoo::events::id::shard(live[0].id),
            )),
        )
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::N(live[0].id.to_string()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    let happened = pingoo::events::id::time_of(live[0].id);
    assert_eq!(
        expires,
        (happened + Duration::days(i64::from(KEPT_DAYS))).timestamp()
    );

    // The list: unfiltered and filtered, exactly the four kept events.
    let mut live_ids: Vec<u64> = live.iter().map(|e| e.id).collect();
    live_ids.sort_unstable_by(|a, b| b.cmp(a));
    for query in ["", "&event_type=page_view", "&url=%2F"] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/events/{}?page_size=100{query}", site.id),
                Some(&token),
                None,
            )
            .await;
        let data = &reply.expect(StatusCode::OK)["data"];
        let ids: Vec<u64> = data["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["ID"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, live_ids, "list{query}");
        assert_eq!(data["total"], 4, "total{query}");
    }

    // The CSV export of raw events over the last 100 days: a header and four rows.
    let reply = app
        .call(
            Method::GET,
            &format!(
                "/api/events/{}/export?kind=events&start_date={}&end_date={}",
                site.id,
                (now - Duration::days(100)).date_naive(),
                now.date_naive()
            ),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let csv = reply.body.as_str().unwrap();
    let rows = csv.lines().count();
    assert_eq!(rows, 1 + 4, "{csv}");
    assert!(!csv.contains("/expired") && !csv.contains("/old"), "{csv}");

    // Recount of the kept day reads only the kept events...
    let report = recount::recount(db, site.id, live_day, live_day, Mode::Compare)
        .await
        .unwrap();
    assert_eq!(report.events, 4);
    // ...and refuses a day whose raw events are past the retention, saying why.
    let old_day = old_at.with_timezone(&tz).date_naive();
    let err = recount::recount(db, site.id, old_day, old_day, Mode::Rebuild)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RecountError::PastRetention {
                days: KEPT_DAYS,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("no longer kept"), "{err}");
}

#[tokio::test]
async fn zero_days_keeps_events_forever_without_a_ttl() {
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let db = &app.state.db;
    let old = event(
        &site,
        Utc::now() - Duration::days(900),
        "s",
        "203.0.113.1",
        "/",
        "page_view",
    );
    db.put_events_bulk(std::slice::from_ref(&old))
        .await
        .unwrap();
    let reply = app
        .call(
            Method::GET,
            &format!("/api/events/{}", site.id),
            Some(&token),
            None,
        )
        .await;
    let data = &reply.expect(StatusCode::OK)["data"];
    assert_eq!(data["total"], 1);
    assert_eq!(data["list"][0]["ID"].as_u64(), Some(old.id));
}
