//! `/api/events*` over HTTP against DynamoDB Local, with the MaxMind test databases.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::{TestApp, Visitor};
use serde_json::{Value, json};

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

async fn app() -> TestApp {
    TestApp::new(pingoo_events::router).await
}

async fn post_event(
    app: &TestApp,
    token: &str,
    visitor: &Visitor<'_>,
    body: Value,
) -> pingoo_stack::testkit::Reply {
    app.call_as(
        Method::POST,
        "/api/events",
        Some(token),
        visitor,
        Some(body.to_string().into_bytes()),
    )
    .await
}

fn event(site_id: u64, session: &str, url: &str) -> Value {
    json!({"site_id": site_id, "session_id": session, "url": url, "event_type": "page_view", "user_agent": CHROME_LINUX})
}

#[tokio::test]
async fn the_specs_example_is_stored_enriched_and_anonymized() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let body = json!({
        "site_id": site.id, "session_id": "session_123", "user_id": "user_456",
        "ip": "81.2.69.142", "url": "https://example.com/page", "referrer": "https://google.com",
        "user_agent": CHROME_LINUX, "screen": "1920x1080",
        "event_type": "page_view", "event_value": "homepage"
    });
    let reply = post_event(&app, &token, &Visitor::default(), body).await;
    let data = reply.expect(StatusCode::OK)["data"].clone();
    let keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "CreatedAt",
            "ID",
            "UpdatedAt",
            "browser",
            "city",
            "country",
            "device",
            "event_type",
            "event_value",
            "ip",
            "is_bot",
            "isp",
            "os",
            "referrer",
            "screen",
            "session_id",
            "site_id",
            "subdivision",
            "url",
            "user_agent",
            "user_id"
        ]
    );
    assert!(data["ID"].as_u64().unwrap() < (1 << 53));
    assert_eq!(data["site_id"], site.id);
    assert_eq!(data["ip"], "81.2.69.0", "stored anonymized");
    assert_eq!(
        (&data["country"], &data["subdivision"], &data["city"]),
        (
            &json!("United Kingdom"),
            &json!("England"),
            &json!("London")
        )
    );
    assert_eq!(
        (&data["device"], &data["browser"], &data["os"]),
        (&json!("desktop"), &json!("Chrome"), &json!("Linux"))
    );
    assert_eq!(data["is_bot"], false);
    assert_eq!(data["event_value"], "homepage");
    assert_eq!(data["CreatedAt"], data["UpdatedAt"]);
}

#[tokio::test]
async fn the_python_example_takes_agent_and_address_from_the_request() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "example.com").await;
    let visitor = Visitor {
        ip: Some("216.160.83.56"),
        user_agent: Some(GOOGLEBOT),
        ..Visitor::default()
    };
    let body = json!({"site_id": site.id, "session_id": "session_123", "url": "https://example.com/page", "event_type": "page_view", "event_value": "homepage"});
    let data = post_event(&app, &token, &visitor, body)
        .await
        .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(data["user_agent"], GOOGLEBOT);
    assert_eq!(data["is_bot"], true);
    assert_eq!(data["device"], "bot");
    assert_eq!(data["ip"], "216.160.83.0");
    assert_eq!(
        (&data["country"], &data["city"]),
        (&json!("United States"), &json!("Milton"))
    );
    // A body address (a server-side caller reporting its visitor) wins over the request's.
    let body = json!({"site_id": site.id, "session_id": "s", "url": "/", "event_type": "page_view", "ip": "2001:db8:1234:5678::1"});
    let data = post_event(&app, &token, &visitor, body)
        .await
        .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(data["ip"], "2001:db8:1234::");
    assert_eq!(data["country"], "", "documentation range: no location");
}

#[tokio::test]
async fn full_addresses_are_kept_only_when_configured() {
    let app =
        TestApp::with_config(pingoo_events::router, |config| config.store_full_ip = true).await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "example.com").await;
    let body = json!({"site_id": site.id, "session_id": "s", "url": "/", "event_type": "page_view", "ip": "81.2.69.142"});
    let data = post_event(&app, &token, &Visitor::default(), body)
        .await
        .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(data["ip"], "81.2.69.142");
}

#[tokio::test]
async fn bad_events_are_400_naming_the_field() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "example.com").await;
    let id = site.id;
    let base = |patch: Value| {
        let mut body =
            json!({"site_id": id, "session_id": "s", "url": "/", "event_type": "page_view"});
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (
            base(json!({"site_id": null})),
            "invalid request body: missing field `site_id`",
        ),
        (base(json!({"site_id": "1"})), "invalid field `site_id`"),
        (
            base(json!({"session_id": null})),
            "invalid request body: missing field `session_id`",
        ),
        (base(json!({"session_id": ""})), "session_id is required"),
        (
            base(json!({"url": null})),
            "invalid request body: missing field `url`",
        ),
        (
            base(json!({"event_type": "Page View"})),
            "event_type must be",
        ),
        (
            base(json!({"url": "u".repeat(2049)})),
            "url must be at most 2048",
        ),
        (
            base(json!({"referrer": "r".repeat(2049)})),
            "referrer must be at most 2048",
        ),
        (
            base(json!({"user_agent": "a".repeat(513)})),
            "user_agent must be at most 512",
        ),
        (
            base(json!({"event_value": "v".repeat(257)})),
            "event_value must be at most 256",
        ),
        (
            base(json!({"user_id": "u".repeat(65)})),
            "user_id must be at most 64",
        ),
        (
            base(json!({"screen": "huge"})),
            "screen must look like 1920x1080",
        ),
        (
            base(json!({"ip": "999.1.1.1"})),
            "ip is not a valid IP address",
        ),
    ];
    for (body, expected) in cases {
        let reply = post_event(&app, &token, &Visitor::default(), body.clone()).await;
        let msg = reply.expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.starts_with(expected), "{body}: {msg}");
    }
    let big = base(json!({"event_value": "v".repeat(17 * 1024)}));
    let reply = post_event(&app, &token, &Visitor::default(), big).await;
    assert_eq!(
        reply.expect_error(StatusCode::PAYLOAD_TOO_LARGE),
        "request body is larger than 16384 bytes"
    );

    let reply = post_event(
        &app,
        &token,
        &Visitor::default(),
        base(json!({"site_id": 424242})),
    )
    .await;
    assert_eq!(
        reply.expect_error(StatusCode::NOT_FOUND),
        "site 424242 not found"
    );
    let (other, _) = app.user("other@example.com").await;
    let reply = post_event(&app, &other, &Visitor::default(), base(json!({}))).await;
    reply.expect_error(StatusCode::FORBIDDEN);
    let reply = app
        .call(Method::POST, "/api/events", None, Some(base(json!({}))))
        .await;
    assert_eq!(
        reply.expect(StatusCode::UNAUTHORIZED),
        &json!({"error": "Authorization header required"})
    );
}

async fn list(app: &TestApp, token: &str, site_id: u64, query: &str) -> Value {
    let reply = app
        .call(
            Method::GET,
            &format!("/api/events/{site_id}?{query}"),
            Some(token),
            None,
        )
        .await;
    reply.expect(StatusCode::OK)["data"].clone()
}

fn ids(data: &Value) -> Vec<u64> {
    data["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ID"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn listing_is_newest_first_with_exact_totals_filters_and_cursors() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "example.com").await;
    let mut created = Vec::new();
    for i in 0..25 {
        let mut body = event(
            site.id,
            &format!("s{}", i % 3),
            &format!("https://example.com/p{i}"),
        );
        if i % 5 == 0 {
            body["event_type"] = json!("signup");
            body["user_agent"] = json!(GOOGLEBOT);
        }
        let data = post_event(&app, &token, &Visitor::default(), body)
            .await
            .expect(StatusCode::OK)["data"]
            .clone();
        created.push(data["ID"].as_u64().unwrap());
    }
    // Newest first means by id (two events in one millisecond order by their random bits).
    created.sort_unstable_by(|a, b| b.cmp(a));

    let first = list(&app, &token, site.id, "").await;
    assert_eq!(first["total"], 25);
    assert_eq!(
        (first["page"].clone(), first["page_size"].clone()),
        (json!(1), json!(10))
    );
    assert_eq!(ids(&first), created[..10]);
    assert!(first["list"][0]["DeletedAt"].is_null() && first["list"][0].get("DeletedAt").is_some());

    let page3 = list(&app, &token, site.id, "page=3&page_size=10").await;
    assert_eq!(ids(&page3), created[20..]);
    assert!(page3.get("next_cursor").is_none());

    // Cursor paging visits every event once.
    let mut seen = ids(&first);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let next = list(&app, &token, site.id, &format!("cursor={cursor}")).await;
        assert_eq!(next["total"], 25);
        seen.extend(ids(&next));
        match next.get("next_cursor").and_then(Value::as_str) {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, created);

    let signups = list(&app, &token, site.id, "event_type=signup").await;
    assert_eq!(signups["total"], 5);
    let bots = list(&app, &token, site.id, "is_bot=true&page_size=100").await;
    assert_eq!(bots["total"], 5);
    let humans = list(
        &app,
        &token,
        site.id,
        "is_bot=false&device=desktop&browser=Chrome&os=Linux",
    )
    .await;
    assert_eq!(humans["total"], 20);
    let session = list(&app, &token, site.id, "session_id=s1").await;
    assert_eq!(session["total"], 8);
    let url = list(&app, &token, site.id, "url=%2Fp1").await; // p1, p10..p19
    assert_eq!(url["total"], 11);
    let capped = list(&app, &token, site.id, "page_size=1000").await;
    assert_eq!(capped["page_size"], 100);
    assert_eq!(ids(&capped).len(), 25);
}

#[tokio::test]
/// Every accepted date format bounds the list, and bad bounds are 400s. (The site's time
/// zone is `infra/local/tests/timezones.rs`'s.)
async fn the_list_takes_dates_in_every_accepted_format_and_refuses_others() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "example.com").await;
    post_event(&app, &token, &Visitor::default(), event(site.id, "s", "/"))
        .await
        .expect(StatusCode::OK);
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let today_dashed = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let one = list(
        &app,
        &token,
        site.id,
        &format!("start_time={today}&end_time={today_dashed}"),
    )
    .await;
    assert_eq!(one["total"], 1);
    let none = list(&app, &token, site.id, "end_time=20240101").await;
    assert_eq!(none["total"], 0);
    let rfc = list(
        &app,
        &token,
        site.id,
        "start_time=2024-01-01T00:00:00%2B08:00",
    )
    .await;
    // The deepest offset page allowed still answers.
    let deepest = list(&app, &token, site.id, "page=100&page_size=100").await;
    assert_eq!(deepest["page"], 100);
    assert_eq!(rfc["total"], 1);
    for bad in [
        "start_time=yesterday",
        "end_time=2025-13-01",
        "cursor=nope",
        "page=0",
        "page_size=0",
        "is_bot=maybe",
        // Offset paging stops at the first 10,000 events (cursor paging goes on).
        "page=101&page_size=100",
        "page=10001",
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/events/{}?{bad}", site.id),
                Some(&token),
                None,
            )
            .await;
        reply.expect_error(StatusCode::BAD_REQUEST);
    }
    let reply = app
        .call(
            Method::GET,
            &format!(
                "/api/events/{}?start_time=20250102&end_time=20250101",
                site.id
            ),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        reply.expect_error(StatusCode::BAD_REQUEST),
        "start_time is after end_time"
    );
}

#[tokio::test]
async fn only_the_owner_lists_events() {
    let app = app().await;
    let (owner, _) = app.user("owner@example.com").await;
    let (other, _) = app.user("other@example.com").await;
    let site = app.site(&owner, "example.com").await;
    let reply = app
        .call(
            Method::GET,
            &format!("/api/events/{}", site.id),
            Some(&other),
            None,
        )
        .await;
    reply.expect_error(StatusCode::FORBIDDEN);
    let reply = app
        .call(Method::GET, "/api/events/99999", Some(&owner), None)
        .await;
    reply.expect_error(StatusCode::NOT_FOUND);
    let reply = app
        .call(Method::GET, "/api/events/abc", Some(&owner), None)
        .await;
    reply.expect_error(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deleting_a_site_purges_its_events_and_only_its_events() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let doomed = app.site(&token, "doomed.example.com").await;
    let kept = app.site(&token, "kept.example.com").await;
    for i in 0..60 {
        post_event(
            &app,
            &token,
            &Visitor::default(),
            event(doomed.id, "s", &format!("/d{i}")),
        )
        .await
        .expect(StatusCode::OK);
    }
    for i in 0..5 {
        post_event(
            &app,
            &token,
            &Visitor::default(),
            event(kept.id, "s", &format!("/k{i}")),
        )
        .await
        .expect(StatusCode::OK);
    }
    let user = app
        .state
        .db
        .get_user(doomed.user_id)
        .await
        .unwrap()
        .unwrap();
    pingoo::sites::service::delete(&app.state, &user, doomed.id)
        .await
        .unwrap();

    // Gone from the API at once.
    let reply = app
        .call(
            Method::GET,
            &format!("/api/events/{}", doomed.id),
            Some(&token),
            None,
        )
        .await;
    reply.expect_error(StatusCode::NOT_FOUND);

    // The janitor removes the items, in bounded rounds, and finishes the job.
    let report = pingoo::purge::run(&app.state.db, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(report.events_deleted, 60);
    assert_eq!(report.jobs_finished, 1);
    let range = |site_id| pingoo::store::EventRange {
        site_id,
        generation: 0,
        first_id: 0,
        last_id: pingoo::events::id::MAX_ID,
        filter: Default::default(),
    };
    assert_eq!(
        app.state.db.count_events(&range(doomed.id)).await.unwrap(),
        0
    );
    assert_eq!(app.state.db.count_events(&range(kept.id)).await.unwrap(), 5);
    assert!(app.state.db.purge_jobs().await.unwrap().is_empty());
    let again = pingoo::purge::run(&app.state.db, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(again.events_deleted, 0);
}

#[tokio::test]
async fn a_purge_resumes_across_runs_until_nothing_is_left() {
    use futures::StreamExt;
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "big.example.com").await;
    // 2,500 events straight through the store (the API path is covered above).
    let stored = futures::stream::iter(0..2500u32)
        .map(|i| {
            let state = &app.state;
            let site = &site;
            async move {
                let input = pingoo::events::validate::EventInput {
                    session_id: format!("s{}", i % 50),
                    url: format!("/p{i}"),
                    event_type: "page_view".into(),
                    ..Default::default()
                };
                pingoo::events::ingest::ingest(state, site, input, None)
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(32)
        .count()
        .await;
    assert_eq!(stored, 2500);
    let user = app.state.db.get_user(site.user_id).await.unwrap().unwrap();
    pingoo::sites::service::delete(&app.state, &user, site.id)
        .await
        .unwrap();

    // A run whose budget is already spent leaves the job queued...
    let starved = pingoo::purge::run(&app.state.db, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!((starved.events_deleted, starved.jobs_pending), (0, 1));
    // ...and later runs finish it in rounds of at most 1,000 events.
    let mut deleted = 0;
    let mut runs = 0;
    while !app.state.db.purge_jobs().await.unwrap().is_empty() {
        runs += 1;
        assert!(runs < 20, "purge did not finish");
        let report = pingoo::purge::run(&app.state.db, Duration::from_millis(300))
            .await
            .unwrap();
        deleted += report.events_deleted;
    }
    assert_eq!(deleted, 2500);
    let range = pingoo::store::EventRange {
        site_id: site.id,
        generation: 0,
        first_id: 0,
        last_id: pingoo::events::id::MAX_ID,
        filter: Default::default(),
    };
    assert_eq!(app.state.db.count_events(&range).await.unwrap(), 0);
}
