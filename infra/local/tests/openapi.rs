//! The OpenAPI description: `docs/openapi.json` is what the code generates, the auth
//! function serves it, and every operation it lists is routed (and only those: each
//! function's router is built from its described handlers, `utoipa_axum::routes!`).
//!
//! After changing a handler's description or an API type:
//! `cargo run -p pingoo-local -- openapi > docs/openapi.json`.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::TestApp;
use serde_json::Value;

const COMMITTED: &str = include_str!("../../../docs/openapi.json");
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "options"];

fn generated() -> Value {
    serde_json::from_str(&pingoo_local::openapi_json()).expect("the description is JSON")
}

/// Every `(method, path, operation)` of the description.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn the_committed_description_is_what_the_code_generates() {
    let now = pingoo_local::openapi_json();
    if now != COMMITTED {
        let line = now
            .lines()
            .zip(COMMITTED.lines())
            .position(|(a, b)| a != b)
            .map_or(now.lines().count().min(COMMITTED.lines().count()), |i| i);
        panic!(
            "docs/openapi.json is stale (first difference at line {}); regenerate it with \
             `cargo run -p pingoo-local -- openapi > docs/openapi.json`",
            line + 1
        );
    }
}

#[test]
fn the_description_covers_the_whole_api_with_its_contract() {
    let doc = generated();
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = operations(&doc);
    // The spec's operations and the additive ones (README's API section lists them).
    for (method, path) in [
        ("post", "/api/auth/register"),
        ("post", "/api/auth/login"),
        ("post", "/api/auth/refresh"),
        ("get", "/api/auth/me"),
        ("post", "/api/sites"),
        ("get", "/api/sites"),
        ("get", "/api/sites/{id}"),
        ("put", "/api/sites/{id}"),
        ("delete", "/api/sites/{id}"),
        ("delete", "/api/sites/{id}/stats"),
        ("post", "/api/events"),
        ("get", "/api/events/{site_id}"),
        ("get", "/api/events/{site_id}/stats"),
        ("get", "/api/events/{site_id}/summary"),
        ("get", "/api/events/{site_id}/breakdown"),
        ("get", "/api/events/{site_id}/realtime"),
        ("get", "/api/events/{site_id}/export"),
        ("post", "/api/sites/{id}/shares"),
        ("get", "/api/share/{token}/summary"),
        ("post", "/api/auth/keys"),
        ("get", "/api/sites/{id}/usage"),
        ("post", "/send"),
        ("post", "/api/send"),
        ("get", "/pingoo.js"),
        ("get", "/api/health"),
        ("get", "/api/openapi.json"),
    ] {
        assert!(
            ops.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} is not described"
        );
    }
    let mut ids = HashSet::new();
    for (method, path, op) in &ops {
        let id = op["operationId"].as_str().expect("an operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.contains_key("200") || responses.contains_key("204"),
            "{method} {path} describes no success"
        );
        for status in ["400", "404", "500"] {
            assert!(
                responses.contains_key(status),
                "{method} {path} lacks {status}"
            );
        }
        for (status, answer) in responses {
            for (name, link) in answer["links"].as_object().into_iter().flatten() {
                let target = link["operationId"]
                    .as_str()
                    .expect("links name an operationId");
                assert!(
                    ops.iter().any(|(_, _, o)| o["operationId"] == target),
                    "{method} {path} {status}: link {name} names no operation ({target})"
                );
            }
        }
        let secured = op["security"].as_array().is_some_and(|reqs| {
            reqs.iter()
                .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        });
        if secured {
            assert!(responses.contains_key("401"), "{method} {path} lacks 401");
        }
    }

    // The spec's names: the envelope, `{"error"}` for a missing token, the event's
    // capitalised fields, week_uv/month_uv, refresh_token.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ErrorEnvelope"]["required"],
        serde_json::json!(["code", "msg", "data"])
    );
    assert_eq!(
        schemas["AuthError"]["required"],
        serde_json::json!(["error"])
    );
    for field in ["ID", "CreatedAt", "UpdatedAt", "site_id", "event_type"] {
        assert!(
            schemas["EventView"]["properties"].get(field).is_some(),
            "EventView lacks {field}"
        );
    }
    assert!(schemas["ListedEvent"].to_string().contains("DeletedAt"));
    for field in ["week_uv", "month_uv", "pv", "uv", "bounce_rate"] {
        assert!(
            schemas["Summary"]["properties"].get(field).is_some(),
            "Summary lacks {field}"
        );
    }
    assert!(
        schemas["AuthResponse"]["properties"]
            .get("refresh_token")
            .is_some()
    );
    let security = &doc["components"]["securitySchemes"];
    for scheme in ["jwt", "api_key", "share_unlock"] {
        assert_eq!(security[scheme]["scheme"], "bearer", "{scheme}");
    }
    // Found by schemathesis, each a description that did not say what the code does:
    // the profile answer without new tokens is a plain object (a flattened `Option` was
    // described as "an object or null"); the beacon needs `session_id` and `url`; API
    // keys start with `pgo_`.
    let profile = &schemas["ProfileUpdated"];
    assert_eq!(
        profile["required"],
        serde_json::json!(["id", "username", "email", "role"])
    );
    assert!(
        profile.get("allOf").is_none() && profile.get("oneOf").is_none(),
        "{profile}"
    );
    assert_eq!(profile["properties"]["token"]["type"], "string");
    let beacon_required = schemas["Beacon"]["required"].to_string();
    assert!(beacon_required.contains("session_id") && beacon_required.contains("url"));
    assert_eq!(security["api_key"]["bearerFormat"], "pgo_…");

    // Links give the stateful fuzzing its scenarios: a created site is read, changed,
    // shared and deleted by its id.
    let created = &doc["paths"]["/api/sites"]["post"]["responses"]["200"]["links"];
    assert_eq!(
        created["DeleteSite"]["parameters"]["id"],
        "$response.body#/data/id"
    );
    let unauthorized = doc["components"]["responses"]["Unauthorized"].to_string();
    assert!(unauthorized.contains("AuthError") && unauthorized.contains("ErrorEnvelope"));
}

#[tokio::test]
async fn the_auth_function_serves_the_committed_description() {
    let app = TestApp::new(pingoo_auth::router).await;
    let reply = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/json");
    let committed: Value = serde_json::from_str(COMMITTED).expect("docs/openapi.json is JSON");
    assert_eq!(reply.body, committed);
}

/// Each described operation reaches a handler of the local runner (which merges every
/// function's router): no "no route" 404, no 405, no dashboard page.
#[tokio::test]
async fn every_described_operation_is_routed() {
    let app = TestApp::new(pingoo_local::app).await;
    for (method, path, _) in operations(&generated()) {
        let concrete = path
            .replace("{id}", "1")
            .replace("{site_id}", "1")
            .replace("{share_id}", "1")
            .replace("{token}", "nosuchtoken");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
        let reply = app.call(method.clone(), &concrete, None, None).await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let msg = reply.body["msg"].as_str().unwrap_or_default();
        assert!(!msg.starts_with("no route"), "{method} {path}: {msg}");
        let html = reply
            .headers
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("text/html"));
        assert!(!html, "{method} {path} answered the dashboard's page");
    }
}
