//! `POST /api/events` judges the user agent as the site's backend reports it: a body
//! agent by the crawlers and tools it names, the request's own agent (no body agent) as
//! the backend's HTTP client. Over HTTP against DynamoDB Local.

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::{TestApp, Visitor};
use serde_json::{Value, json};

const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// Posts one page view with `body_agent` in the body (or none) and `header_agent` as the
/// request's `User-Agent`; returns (user_agent, is_bot, device) as stored.
async fn stored(
    app: &TestApp,
    token: &str,
    site: u64,
    body_agent: Option<&str>,
    header_agent: Option<&str>,
) -> (String, bool, String) {
    let mut body =
        json!({"site_id": site, "session_id": "s", "url": "/", "event_type": "page_view"});
    if let Some(agent) = body_agent {
        body["user_agent"] = json!(agent);
    }
    let visitor = Visitor {
        user_agent: header_agent,
        ..Visitor::default()
    };
    let data: Value = app
        .call_as(
            Method::POST,
            "/api/events",
            Some(token),
            &visitor,
            Some(body.to_string().into_bytes()),
        )
        .await
        .expect(StatusCode::OK)["data"]
        .clone();
    (
        data["user_agent"].as_str().unwrap_or_default().to_owned(),
        data["is_bot"].as_bool().unwrap_or_default(),
        data["device"].as_str().unwrap_or_default().to_owned(),
    )
}

#[rustfmt::skip]
#[tokio::test]
async fn body_agents_count_by_name_and_the_backends_own_client_is_no_bot() {
    let app = TestApp::new(pingoo_events::router).await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "example.com").await.id;
    let cases: &[(Option<&str>, Option<&str>, &str, bool)] = &[
        // The backend's own HTTP client, no body agent: stored, not a bot.
        (None, Some("python-requests/2.32.3"), "python-requests/2.32.3", false),
        (None, Some("curl/8.5.0"), "curl/8.5.0", false),
        (None, Some("Go-http-client/1.1"), "Go-http-client/1.1", false),
        (Some(""), Some("okhttp/4.12.0"), "okhttp/4.12.0", false),
        (None, None, "", false),
        // A truncated or unknown reported agent is no bot; a named tool or crawler is.
        (Some("Mozilla/5.0..."), Some("curl/8.5.0"), "Mozilla/5.0...", false),
        (Some("SomeInternalTool/1.0"), None, "SomeInternalTool/1.0", false),
        (Some("curl/8.5.0"), None, "curl/8.5.0", true),
        (Some(GOOGLEBOT), Some("python-requests/2.32.3"), GOOGLEBOT, true),
        // A crawler calling with a token is still a crawler.
        (None, Some(GOOGLEBOT), GOOGLEBOT, true),
    ];
    for &(body_agent, header_agent, want_agent, want_bot) in cases {
        let (agent, is_bot, device) = stored(&app, &token, site, body_agent, header_agent).await;
        assert_eq!(
            (agent.as_str(), is_bot),
            (want_agent, want_bot),
            "body {body_agent:?}, header {header_agent:?}"
        );
        assert_eq!(device == "bot", want_bot, "{device}");
    }
}
