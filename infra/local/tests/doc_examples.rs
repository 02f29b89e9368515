//! The API document's own `POST /api/events` examples, posted as written (the created
//! site's id for `site_id`), each count one page view in the summary: events in through
//! the API, through DynamoDB Local's stream and the local poller into the aggregator,
//! figures out through `/api/events/:site_id/summary`.
//!
//! Neither example sends a real browser's agent: the request example reports the
//! truncated `"Mozilla/5.0..."`, and the Python example sends none, so the request's
//! `python-requests/…` agent is used. The caller holds a token, so it is the site's own
//! backend: neither makes the event a bot.

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::Visitor;
use serde_json::Value;

/// The document's request example (`请求示例` under `创建事件`), verbatim.
const REQUEST_EXAMPLE: &str = r#"{
"site_id": 1,
"session_id": "session_123",
"user_id": "user_456",
"ip": "66.249.72.20",
"url": "https://example.com/page",
"referrer": "https://google.com",
"user_agent": "Mozilla/5.0...",
"screen": "1920x1080",
"event_type": "page_view",
"event_value": "homepage"
}"#;

/// The `data` of the document's Python example, verbatim; `requests.post(url, json=data)`
/// sends it as JSON with its own `User-Agent`.
const PYTHON_EXAMPLE: &str = r#"{
"site_id": 1,
"session_id": "session_123",
"url": "https://example.com/page",
"event_type": "page_view",
"event_value": "homepage"
}"#;

/// What python-requests sends as `User-Agent` (`requests.utils.default_user_agent()`).
const PYTHON_REQUESTS: &str = "python-requests/2.32.3";

struct Stack {
    app: support::Streaming,
    token: String,
    site: u64,
}

async fn stack() -> Stack {
    let app = support::streaming().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await.id;
    Stack { app, token, site }
}

/// Posts the example with the created site's id and returns the stored event.
async fn post_example(s: &Stack, example: &str, user_agent: Option<&str>) -> Value {
    let mut body: Value = serde_json::from_str(example).expect("the example is JSON");
    body["site_id"] = s.site.into();
    let visitor = Visitor {
        user_agent,
        headers: &[("content-type", "application/json")],
        ..Visitor::default()
    };
    s.app
        .call_as(
            Method::POST,
            "/api/events",
            Some(&s.token),
            &visitor,
            Some(body.to_string().into_bytes()),
        )
        .await
        .expect(StatusCode::OK)["data"]
        .clone()
}

/// Polls the summary until it shows `pv` page views (the stream delivers within about a
/// second); fails after 20 s with the last summary.
async fn summary_with_pv(s: &Stack, pv: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let data = s
            .app
            .call(
                Method::GET,
                &format!("/api/events/{}/summary", s.site),
                Some(&s.token),
                None,
            )
            .await
            .expect(StatusCode::OK)["data"]
            .clone();
        if data["pv"] == pv {
            return data;
        }
        assert!(
            Instant::now() < deadline,
            "the summary never showed {pv} page view(s): {data}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_request_example_counts_one_page_view() {
    let s = stack().await;
    let event = post_example(&s, REQUEST_EXAMPLE, None).await;
    assert_eq!(event["is_bot"], false, "{event}");
    assert_eq!(event["user_agent"], "Mozilla/5.0...");
    let data = summary_with_pv(&s, 1).await;
    assert_eq!(data["uv"], 1, "{data}");
}

#[tokio::test]
async fn the_python_example_counts_one_page_view() {
    let s = stack().await;
    let event = post_example(&s, PYTHON_EXAMPLE, Some(PYTHON_REQUESTS)).await;
    assert_eq!(event["is_bot"], false, "{event}");
    // The request's agent is kept for display.
    assert_eq!(event["user_agent"], PYTHON_REQUESTS);
    let data = summary_with_pv(&s, 1).await;
    assert_eq!(data["uv"], 1, "{data}");
}
