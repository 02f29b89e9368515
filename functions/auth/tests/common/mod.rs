//! What the key and account tests share: the auth, sites and events routes merged as the
//! local runner merges them, and creating keys.
#![allow(dead_code)] // each test binary uses its own part

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::TestApp;
use serde_json::{Value, json};

pub async fn app() -> TestApp {
    TestApp::new(|state| {
        pingoo::http::service(
            pingoo_auth::routes()
                .merge(pingoo_sites::routes())
                .merge(pingoo_events::routes()),
            state,
        )
    })
    .await
}

pub async fn create_key(app: &TestApp, token: &str, name: &str, scope: &str) -> Value {
    app.call(
        Method::POST,
        "/api/auth/keys",
        Some(token),
        Some(json!({"name": name, "scope": scope})),
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone()
}

/// The key string of a freshly created key.
pub async fn new_key(app: &TestApp, token: &str, scope: &str) -> String {
    let data = create_key(app, token, "script", scope).await;
    data["key"].as_str().unwrap().to_owned()
}
