//! Issue 13 §5: no input, however long, reaches DynamoDB in a form it rejects. Every
//! route is called with oversized path segments, query values and body strings (DynamoDB
//! refuses keys over 2,048 bytes and items over 400 KB); each answer must be a client
//! error in the envelope (or the `{"error": …}` of a 401), never a 500.

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::{TestApp, Visitor};
use serde_json::{Value, json};

fn long(c: char) -> String {
    std::iter::repeat_n(c, 3_000).collect()
}

/// Every route, with `{id}` for ids and `{s}` for any other path segment.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("GET", "/api/auth/me"),
    ("PUT", "/api/auth/profile"),
    ("PUT", "/api/auth/password"),
    ("GET", "/api/auth/keys"),
    ("POST", "/api/auth/keys"),
    ("DELETE", "/api/auth/keys/{s}"),
    ("GET", "/api/sites"),
    ("POST", "/api/sites"),
    ("GET", "/api/sites/{id}"),
    ("PUT", "/api/sites/{id}"),
    ("GET", "/api/sites/{id}/usage"),
    ("GET", "/api/sites/{id}/shares"),
    ("POST", "/api/sites/{id}/shares"),
    ("DELETE", "/api/sites/{id}/shares/{s}"),
    ("POST", "/api/events"),
    ("GET", "/api/events/{id}"),
    ("GET", "/api/events/{id}/stats"),
    ("GET", "/api/events/{id}/summary"),
    ("GET", "/api/events/{id}/breakdown"),
    ("GET", "/api/events/{id}/realtime"),
    ("GET", "/api/events/{id}/export"),
    ("GET", "/api/share/{s}"),
    ("POST", "/api/share/{s}/unlock"),
    ("GET", "/api/share/{s}/summary"),
    ("GET", "/api/share/{s}/stats"),
    ("GET", "/api/share/{s}/breakdown"),
    ("GET", "/api/share/{s}/realtime"),
    ("POST", "/send"),
    ("POST", "/api/send"),
    ("POST", "/api/collect"),
    ("GET", "/api/health"),
];

/// Every query parameter any route reads.
const QUERY: &[&str] = &[
    "date",
    "start_date",
    "end_date",
    "stat_type",
    "stat_types",
    "event_type",
    "page",
    "page_size",
    "cursor",
    "compare",
    "limit",
    "include",
    "format",
    "month",
    "url",
];

/// Every body field any route reads.
const FIELDS: &[&str] = &[
    "email",
    "password",
    "username",
    "refresh_token",
    "old_password",
    "new_password",
    "name",
    "domain",
    "timezone",
    "scope",
    "expires_at",
    "site_id",
    "tracking_id",
    "url",
    "referrer",
    "screen",
    "language",
    "event_type",
    "event_value",
    "session_id",
    "user_id",
    "title",
];

/// A body every route could accept, with `field` (if any) set to `value`: one field at a
/// time, so an early check of another field cannot hide a late one.
fn body(site_id: u64, field: Option<&str>, value: &str) -> Value {
    let mut base = json!({
        "email": "owner@example.com",
        "password": "correct horse battery staple",
        "username": "owner",
        "old_password": "correct horse battery staple",
        "new_password": "another horse battery staple",
        "name": "Example",
        "domain": "https://example.com",
        "timezone": "UTC",
        "scope": "read",
        "site_id": site_id,
        "url": "https://example.com/pricing",
        "referrer": "https://news.ycombinator.com/",
        "screen": "1920x1080",
        "language": "en",
        "event_type": "page_view",
        "session_id": "s1",
        "title": "Pricing",
    });
    if let (Some(field), Value::Object(map)) = (field, &mut base) {
        map.insert(field.to_owned(), json!(value));
    }
    base
}

fn assert_client_error(reply_status: StatusCode, body: &Value, what: &str) {
    assert!(
        reply_status.is_client_error() || reply_status.is_success(),
        "{what}: {reply_status} {body}"
    );
    if reply_status.is_client_error() && reply_status != StatusCode::UNAUTHORIZED {
        assert!(
            body.get("code").is_some() && body.get("msg").is_some(),
            "{what}: {reply_status} without the envelope: {body}"
        );
    }
}

#[tokio::test]
async fn oversized_paths_queries_and_bodies_are_client_errors_never_500() {
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let site_id = site.id.to_string();
    let visitor = Visitor {
        ip: Some("203.0.113.9"),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"),
        headers: &[("content-type", "application/json")],
    };
    // 3,000 bytes each (over DynamoDB's 2,048-byte key limit).
    for filler in [long('a'), "长".repeat(1_000), "9".repeat(3_000)] {
        let encoded: String = filler.bytes().map(|b| format!("%{b:02X}")).collect();
        for (method, template) in ROUTES {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            // Oversized path segments (ids too), then oversized query values on the
            // real site.
            let mut paths = vec![template.replace("{id}", &encoded).replace("{s}", &encoded)];
            // As many parameters a request as keep the URI under the http crate's limit.
            let per_request = (60_000 / (encoded.len() + 20)).max(1);
            for chunk in QUERY.chunks(per_request) {
                let query: Vec<String> = chunk.iter().map(|q| format!("{q}={encoded}")).collect();
                paths.push(format!(
                    "{}?{}",
                    template.replace("{id}", &site_id).replace("{s}", "x"),
                    query.join("&")
                ));
            }
            let mut requests: Vec<(String, Option<&str>)> =
                paths.iter().map(|p| (p.clone(), None)).collect();
            if matches!(method, Method::POST | Method::PUT) {
                let real = template.replace("{id}", &site_id).replace("{s}", "x");
                requests.extend(FIELDS.iter().map(|f| (real.clone(), Some(*f))));
            }
            for (path, field) in &requests {
                for auth in [Some(token.as_str()), None] {
                    let payload = serde_json::to_vec(&body(site.id, *field, &filler)).unwrap();
                    let reply = app
                        .call_as(method.clone(), path, auth, &visitor, Some(payload))
                        .await;
                    let what = format!(
                        "{method} {}… field {field:?} ({} auth)",
                        &path[..path.len().min(60)],
                        if auth.is_some() { "with" } else { "without" }
                    );
                    assert_client_error(reply.status, &reply.body, &what);
                }
            }
        }
    }
}
