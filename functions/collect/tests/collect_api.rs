//! The public beacon and the tracker script over HTTP against DynamoDB Local.

use axum::http::{Method, StatusCode};
use pingoo::store::EventRange;
use pingoo_stack::testkit::{TestApp, Visitor};
use serde_json::json;

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/// (headers, body, expected status, expected message prefix)
type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<u8>, StatusCode, &'a str);

async fn app() -> TestApp {
    TestApp::new(pingoo_collect::router).await
}

fn everything(site_id: u64) -> EventRange {
    EventRange {
        site_id,
        generation: 0,
        first_id: 0,
        last_id: pingoo::events::id::MAX_ID,
        filter: Default::default(),
    }
}

fn visitor<'a>(headers: &'a [(&'a str, &'a str)]) -> Visitor<'a> {
    Visitor {
        ip: Some("81.2.69.142"),
        user_agent: Some(CHROME_LINUX),
        headers,
    }
}

#[tokio::test]
async fn a_beacon_from_the_sites_page_is_stored_enriched() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let body = json!({
        "session_id": "abc", "site_id": site.id.to_string(), "user_id": "",
        "url": "https://www.example.com/pricing?x=1", "referrer": "https://news.ycombinator.com/",
        "event_type": "page_view", "event_value": "", "screen": "1920x1080",
        // Ignored: the agent and address come from the request only.
        "user_agent": "curl/8.0", "ip": "1.2.3.4"
    });
    let headers = [
        ("content-type", "text/plain;charset=UTF-8"),
        ("origin", "https://www.example.com"),
    ];
    for path in ["/send", "/api/collect", "/api/send"] {
        let reply = app
            .call_as(
                Method::POST,
                path,
                None,
                &visitor(&headers),
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NO_CONTENT,
            "{path}: {}",
            reply.body
        );
        assert_eq!(reply.headers["access-control-allow-origin"], "*");
    }
    let events = app
        .state
        .db
        .newest_events(&everything(site.id), 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 3);
    let e = &events[0];
    assert_eq!(
        (
            e.device.as_str(),
            e.browser.as_str(),
            e.os.as_str(),
            e.is_bot
        ),
        ("desktop", "Chrome", "Linux", false)
    );
    assert_eq!(e.user_agent, CHROME_LINUX);
    assert_eq!(e.ip, "81.2.69.0");
    assert_eq!(e.city, "London");
    assert_eq!(e.url, "https://www.example.com/pricing?x=1");
    assert_eq!(e.event_type, "page_view");
}

#[tokio::test]
async fn tracking_ids_and_numeric_site_ids_both_work() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "example.com").await;
    let headers = [("origin", "https://example.com")];
    for body in [
        json!({"tracking_id": site.tracking_id, "session_id": "a", "url": "/", "event_type": "custom", "event_value": "signup"}),
        json!({"site_id": site.id, "session_id": "a", "url": "/"}),
    ] {
        let reply = app
            .call_as(
                Method::POST,
                "/api/collect",
                None,
                &visitor(&headers),
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NO_CONTENT,
            "{body}: {}",
            reply.body
        );
    }
    let events = app
        .state
        .db
        .newest_events(&everything(site.id), 10)
        .await
        .unwrap();
    let mut kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.event_value.as_str()))
        .collect();
    kinds.sort();
    // A missing event_type is a page view.
    assert_eq!(kinds, [("custom", "signup"), ("page_view", "")]);
}

#[tokio::test]
async fn beacons_are_refused_clearly() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "example.com").await;
    let good = json!({"site_id": site.id.to_string(), "session_id": "a", "url": "/"}).to_string();
    let on_site = [("origin", "https://example.com")];
    let cases: Vec<Case> = vec![
        (
            on_site.to_vec(),
            json!({"site_id": "424242", "session_id": "a", "url": "/"})
                .to_string()
                .into_bytes(),
            StatusCode::NOT_FOUND,
            "site 424242 not found",
        ),
        (
            on_site.to_vec(),
            json!({"tracking_id": "nope", "session_id": "a", "url": "/"})
                .to_string()
                .into_bytes(),
            StatusCode::NOT_FOUND,
            "unknown tracking_id",
        ),
        (
            vec![("origin", "https://evil.net")],
            good.clone().into_bytes(),
            StatusCode::FORBIDDEN,
            "origin evil.net is not on the site's domain",
        ),
        (
            vec![("origin", "https://notexample.com")],
            good.clone().into_bytes(),
            StatusCode::FORBIDDEN,
            "origin notexample.com",
        ),
        (
            vec![],
            good.clone().into_bytes(),
            StatusCode::FORBIDDEN,
            "beacons must come from a page of the site",
        ),
        (
            on_site.to_vec(),
            b"not json".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            on_site.to_vec(),
            json!({"session_id": "a", "url": "/"})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "site_id or tracking_id is required",
        ),
        (
            on_site.to_vec(),
            json!({"site_id": "x1", "session_id": "a", "url": "/"})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "site_id must be a positive integer",
        ),
        (
            on_site.to_vec(),
            json!({"site_id": site.id, "url": "/"})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "session_id is required",
        ),
        (
            on_site.to_vec(),
            json!({"site_id": site.id, "session_id": "a", "url": "/", "event_type": "Bad Type"})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "event_type must be",
        ),
        (
            on_site.to_vec(),
            vec![b' '; 9 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is larger than 8192 bytes",
        ),
    ];
    for (headers, body, status, expected) in cases {
        let reply = app
            .call_as(Method::POST, "/send", None, &visitor(&headers), Some(body))
            .await;
        let msg = reply.expect_error(status);
        assert!(msg.starts_with(expected), "{headers:?}: {msg}");
        assert_eq!(reply.headers["access-control-allow-origin"], "*");
    }
    // A Referer on the site is enough when there is no Origin.
    let headers = [("referer", "https://blog.example.com/post/1")];
    let reply = app
        .call_as(
            Method::POST,
            "/send",
            None,
            &visitor(&headers),
            Some(good.into_bytes()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(
        app.state
            .db
            .count_events(&everything(site.id))
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn preflights_are_answered() {
    let app = app().await;
    let headers = [
        ("origin", "https://example.com"),
        ("access-control-request-method", "POST"),
    ];
    let reply = app
        .call_as(
            Method::OPTIONS,
            "/api/collect",
            None,
            &visitor(&headers),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.headers["access-control-allow-origin"], "*");
    assert!(
        reply.headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
}

#[tokio::test]
async fn the_tracker_is_served_cached_and_small() {
    let app = app().await;
    for path in ["/pingoo.js", "/api/pingoo.js"] {
        let reply = app.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.headers["content-type"],
            "application/javascript; charset=utf-8"
        );
        assert_eq!(reply.headers["cache-control"], "public, max-age=86400");
        assert!(reply.body.as_str().unwrap().contains("sendBeacon"));
    }
    let headers = [("accept-encoding", "gzip, br")];
    let reply = app
        .call_as(
            Method::GET,
            "/pingoo.js",
            None,
            &Visitor {
                headers: &headers,
                ..Visitor::default()
            },
            None,
        )
        .await;
    assert_eq!(reply.headers["content-encoding"], "gzip");
    let gzipped = pingoo_collect::gzip(pingoo_collect::TRACKER_JS.as_bytes());
    assert!(
        gzipped.len() <= 1000,
        "the tracker is {} bytes gzipped; the budget is 1,000",
        gzipped.len()
    );
}

/// A beacon as each front door delivers it to the Lambda: API Gateway's HTTP API and a
/// Lambda Function URL (`BeaconEndpoint=FunctionUrl`). Both are payload format 2.0 with
/// small differences (route key, `accountId`, no `content-length` from a Function URL,
/// a base64 body when the content type is not text); the address must come from
/// `requestContext.http.sourceIp` and never from the client's `X-Forwarded-For`.
#[tokio::test]
async fn a_beacon_reads_address_and_agent_alike_from_api_gateway_and_function_url_events() {
    use base64::Engine;
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let fixtures = [
        (
            "API Gateway",
            include_str!("data/api_gateway_send.json"),
            false,
        ),
        (
            "Function URL",
            include_str!("data/function_url_send.json"),
            false,
        ),
        (
            "Function URL, base64",
            include_str!("data/function_url_send.json"),
            true,
        ),
    ];
    for (n, (door, fixture, base64)) in fixtures.into_iter().enumerate() {
        let body = json!({
            "session_id": format!("door{n}"), "site_id": site.id.to_string(), "user_id": "",
            "url": "https://www.example.com/pricing", "referrer": "",
            "event_type": "page_view", "event_value": "", "screen": "1920x1080"
        })
        .to_string();
        let mut event: serde_json::Value = serde_json::from_str(fixture).unwrap();
        if base64 {
            event["headers"]["content-type"] = json!("application/octet-stream");
            event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&body));
            event["isBase64Encoded"] = json!(true);
        } else {
            event["body"] = json!(body);
        }
        let reply = app.call_lambda_event(&event.to_string()).await;
        assert_eq!(
            reply.status,
            StatusCode::NO_CONTENT,
            "{door}: {}",
            reply.body
        );
        assert_eq!(reply.headers["access-control-allow-origin"], "*", "{door}");
        let stored = app
            .state
            .db
            .newest_events(&everything(site.id), 10)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.session_id == format!("door{n}"))
            .unwrap_or_else(|| panic!("{door}: the event was not stored"));
        // sourceIp 81.2.69.142, anonymized; the forged 198.51.100.77 is ignored.
        assert_eq!(stored.ip, "81.2.69.0", "{door}");
        assert_eq!(stored.city, "London", "{door}");
        assert_eq!(
            (stored.browser.as_str(), stored.os.as_str()),
            ("Chrome", "Linux"),
            "{door}"
        );
        assert!(!stored.is_bot, "{door}");
    }

    // The tracker through a Function URL: the script a tag loads from it.
    let mut event: serde_json::Value =
        serde_json::from_str(include_str!("data/function_url_send.json")).unwrap();
    event["rawPath"] = json!("/pingoo.js");
    event["requestContext"]["http"]["path"] = json!("/pingoo.js");
    event["requestContext"]["http"]["method"] = json!("GET");
    event["body"] = serde_json::Value::Null;
    let reply = app.call_lambda_event(&event.to_string()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"],
        "application/javascript; charset=utf-8"
    );
}
