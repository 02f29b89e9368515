//! API keys (`/api/auth/keys`, `Authorization: Bearer pgo_…`) over HTTP against DynamoDB
//! Local, with the auth, sites and events routes merged as the local runner does.

mod common;

use axum::http::{Method, StatusCode};
use common::{app, create_key, new_key};
use pingoo::auth::keys::{MAX_KEYS_PER_USER, hash_key, note_use};
use pingoo_stack::testkit::{Reply, TestApp};
use serde_json::{Value, json};

async fn list_keys(app: &TestApp, token: &str) -> Value {
    app.call(Method::GET, "/api/auth/keys", Some(token), None)
        .await
        .expect(StatusCode::OK)["data"]
        .clone()
}

async fn get(app: &TestApp, path: &str, token: &str) -> Reply {
    app.call(Method::GET, path, Some(token), None).await
}

async fn post_event(app: &TestApp, token: &str, site_id: u64) -> Reply {
    app.call(
        Method::POST,
        "/api/events",
        Some(token),
        Some(json!({"site_id": site_id, "session_id": "s1", "url": "https://example.com/", "event_type": "page_view"})),
    )
    .await
}

fn keys_of(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_and_never_listed() {
    let app = app().await;
    let (token, user_id) = app.user("keys@example.com").await;
    let data = create_key(&app, &token, " CI deploy ", "read").await;
    assert_eq!(
        keys_of(&data),
        ["created_at", "id", "key", "name", "prefix", "scope"]
    );
    assert_eq!(data["name"], "CI deploy");
    assert_eq!(data["scope"], "read");
    let key = data["key"].as_str().unwrap();
    assert!(key.starts_with("pgo_"), "{key}");
    assert_eq!(key.len(), 4 + 43, "pgo_ + 32 bytes of URL-safe base64");
    assert_eq!(data["prefix"], key[..12]);

    let list = list_keys(&app, &token).await;
    let entries = list.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        keys_of(&entries[0]),
        [
            "created_at",
            "id",
            "last_used_at",
            "name",
            "prefix",
            "scope"
        ]
    );
    assert_eq!(entries[0]["id"], data["id"]);
    assert_eq!(entries[0]["prefix"], data["prefix"]);
    assert_eq!(entries[0]["created_at"], data["created_at"]);
    assert!(entries[0]["last_used_at"].is_null());
    assert!(!list.to_string().contains(key), "the list shows the key");

    // Stored under its SHA-256; the item holds the hash, never the key.
    let stored = app
        .state
        .db
        .find_api_key(&hash_key(key))
        .await
        .unwrap()
        .expect("the key item");
    assert_eq!(stored.user_id, user_id);
    assert_eq!(stored.key_hash, hash_key(key));
    let raw = app
        .state
        .db
        .client
        .get_item()
        .table_name(&app.state.db.tables.app)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("KEY#{}", hash_key(key))),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("KEY".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(
        !format!("{raw:?}").contains(key),
        "the key is stored in clear"
    );
}

#[tokio::test]
async fn a_read_key_reads_but_neither_ingests_nor_manages() {
    let app = app().await;
    let (token, _) = app.user("reader@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let key = new_key(&app, &token, "read").await;

    let list = get(&app, "/api/sites", &key).await;
    assert_eq!(
        list.expect(StatusCode::OK)["data"]["list"][0]["id"],
        site.id
    );
    get(&app, &format!("/api/sites/{}", site.id), &key)
        .await
        .expect(StatusCode::OK);
    for path in ["summary", "stats?stat_type=url", "breakdown", "realtime"] {
        get(&app, &format!("/api/events/{}/{path}", site.id), &key)
            .await
            .expect(StatusCode::OK);
    }
    get(&app, &format!("/api/events/{}", site.id), &key)
        .await
        .expect(StatusCode::OK);

    let msg = post_event(&app, &key, site.id)
        .await
        .expect_error(StatusCode::FORBIDDEN);
    assert!(msg.contains("`read`") && msg.contains("`ingest`"), "{msg}");

    let site_path = format!("/api/sites/{}", site.id);
    let stats_path = format!("/api/sites/{}/stats", site.id);
    let refused: [(Method, &str, Option<Value>); 10] = [
        (
            Method::PUT,
            "/api/auth/profile",
            Some(json!({"username": "x"})),
        ),
        (
            Method::PUT,
            "/api/auth/password",
            Some(json!({"old_password": "password123", "new_password": "password456"})),
        ),
        (Method::GET, "/api/auth/me", None),
        (
            Method::DELETE,
            "/api/auth/me",
            Some(json!({"password": "password123"})),
        ),
        (Method::GET, "/api/auth/keys", None),
        (
            Method::POST,
            "/api/auth/keys",
            Some(json!({"name": "n", "scope": "read"})),
        ),
        (
            Method::POST,
            "/api/sites",
            Some(json!({"name": "n", "domain": "b.example"})),
        ),
        (Method::PUT, &site_path, Some(json!({"name": "renamed"}))),
        (Method::DELETE, &stats_path, None),
        (Method::DELETE, &site_path, None),
    ];
    for (method, path, body) in refused {
        let reply = app.call(method.clone(), path, Some(&key), body).await;
        let msg = reply.expect_error(StatusCode::FORBIDDEN);
        assert!(msg.contains("scope `read`"), "{method} {path}: {msg}");
    }
    // Nothing of that happened.
    let me = get(&app, "/api/auth/me", &token).await;
    assert_eq!(me.expect(StatusCode::OK)["data"]["username"], "reader");
    get(&app, &site_path, &token).await.expect(StatusCode::OK);
    assert_eq!(list_keys(&app, &token).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_ingest_key_ingests_but_does_not_read() {
    let app = app().await;
    let (token, _) = app.user("ingest@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let key = new_key(&app, &token, "ingest").await;

    post_event(&app, &key, site.id).await.expect(StatusCode::OK);
    let msg = get(&app, &format!("/api/events/{}/summary", site.id), &key)
        .await
        .expect_error(StatusCode::FORBIDDEN);
    assert!(msg.contains("scope `ingest`"), "{msg}");
    get(&app, "/api/sites", &key)
        .await
        .expect_error(StatusCode::FORBIDDEN);
    get(&app, &format!("/api/events/{}", site.id), &key)
        .await
        .expect_error(StatusCode::FORBIDDEN);

    // read_ingest does both.
    let both = new_key(&app, &token, "read_ingest").await;
    post_event(&app, &both, site.id)
        .await
        .expect(StatusCode::OK);
    get(&app, &format!("/api/events/{}/summary", site.id), &both)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn revoked_and_unknown_keys_answer_401_like_a_bad_jwt() {
    let app = app().await;
    let (token, _) = app.user("revoke@example.com").await;
    let data = create_key(&app, &token, "old", "read").await;
    let key = data["key"].as_str().unwrap();
    let id = data["id"].as_u64().unwrap();
    get(&app, "/api/sites", key).await.expect(StatusCode::OK);

    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/auth/keys/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(revoked.expect(StatusCode::OK)["code"], 0);
    let expected = json!({"error": "Invalid token: unknown or revoked API key"});
    assert_eq!(
        get(&app, "/api/sites", key)
            .await
            .expect(StatusCode::UNAUTHORIZED),
        &expected
    );
    assert!(list_keys(&app, &token).await.as_array().unwrap().is_empty());

    let unknown = format!("pgo_{}", "A".repeat(43));
    for bad in [unknown.as_str(), "pgo_", "pgo_ x"] {
        let reply = get(&app, "/api/sites", bad).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{bad:?}: {}",
            reply.body
        );
        assert!(
            reply.body["error"]
                .as_str()
                .unwrap()
                .starts_with("Invalid token: ")
        );
    }

    // Revoking again, an unknown id, a bad id.
    let path = format!("/api/auth/keys/{id}");
    app.call(Method::DELETE, &path, Some(&token), None)
        .await
        .expect_error(StatusCode::NOT_FOUND);
    app.call(Method::DELETE, "/api/auth/keys/999", Some(&token), None)
        .await
        .expect_error(StatusCode::NOT_FOUND);
    let msg = app
        .call(Method::DELETE, "/api/auth/keys/abc", Some(&token), None)
        .await
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(msg.contains("id"), "{msg}");
    let missing = app.call(Method::GET, "/api/auth/keys", None, None).await;
    assert_eq!(
        missing.expect(StatusCode::UNAUTHORIZED),
        &json!({"error": "Authorization header required"})
    );
}

#[tokio::test]
async fn another_users_key_never_reaches_my_sites() {
    let app = app().await;
    let (mine, _) = app.user("me@example.com").await;
    let (theirs, _) = app.user("them@example.com").await;
    let site = app.site(&mine, "https://mine.example").await;
    let my_key = create_key(&app, &mine, "mine", "read").await;
    let their_key = new_key(&app, &theirs, "read_ingest").await;

    for path in [
        format!("/api/sites/{}", site.id),
        format!("/api/events/{}/summary", site.id),
        format!("/api/events/{}", site.id),
    ] {
        get(&app, &path, &their_key)
            .await
            .expect_error(StatusCode::FORBIDDEN);
    }
    post_event(&app, &their_key, site.id)
        .await
        .expect_error(StatusCode::FORBIDDEN);
    let list = get(&app, "/api/sites", &their_key).await;
    assert_eq!(list.expect(StatusCode::OK)["data"]["list"], json!([]));

    // Nor can they see or revoke my key.
    assert_eq!(list_keys(&app, &theirs).await.as_array().unwrap().len(), 1);
    let path = format!("/api/auth/keys/{}", my_key["id"]);
    app.call(Method::DELETE, &path, Some(&theirs), None)
        .await
        .expect_error(StatusCode::NOT_FOUND);
    get(&app, "/api/sites", my_key["key"].as_str().unwrap())
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn last_used_at_is_written_at_most_once_a_minute() {
    let app = app().await;
    let (token, _) = app.user("touch@example.com").await;
    let key = new_key(&app, &token, "read").await;
    let hash = hash_key(&key);

    get(&app, "/api/sites", &key).await.expect(StatusCode::OK);
    let first = list_keys(&app, &token).await[0]["last_used_at"].clone();
    let first_at = first
        .as_str()
        .expect("last_used_at is set after a use")
        .to_owned();
    get(&app, "/api/sites", &key).await.expect(StatusCode::OK);
    assert_eq!(list_keys(&app, &token).await[0]["last_used_at"], first);

    // Through the clock: 30 s later nothing is written, 61 s later it is.
    let db = &app.state.db;
    let stored = db.find_api_key(&hash).await.unwrap().unwrap();
    let used = chrono::DateTime::parse_from_rfc3339(&first_at)
        .unwrap()
        .with_timezone(&chrono::Utc);
    note_use(&app.state, &stored, used + chrono::Duration::seconds(30)).await;
    let after = db.find_api_key(&hash).await.unwrap().unwrap();
    assert_eq!(after.last_used_at.as_deref(), Some(first_at.as_str()));

    // A request that read the key before the first write (last_used_at empty in its copy)
    // does not write either: the condition is on the stored value.
    let mut stale = stored.clone();
    stale.last_used_at = None;
    note_use(&app.state, &stale, used + chrono::Duration::seconds(1)).await;
    let after = db.find_api_key(&hash).await.unwrap().unwrap();
    assert_eq!(after.last_used_at.as_deref(), Some(first_at.as_str()));

    let later = used + chrono::Duration::seconds(61);
    note_use(&app.state, &stored, later).await;
    let after = db.find_api_key(&hash).await.unwrap().unwrap();
    assert_eq!(
        after.last_used_at,
        Some(later.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    );
}

#[tokio::test]
async fn a_password_change_leaves_keys_working() {
    let app = app().await;
    let (token, _) = app.user("rotate@example.com").await;
    let key = new_key(&app, &token, "read").await;
    app.call(
        Method::PUT,
        "/api/auth/password",
        Some(&token),
        Some(json!({"old_password": "password123", "new_password": "password456"})),
    )
    .await
    .expect(StatusCode::OK);
    get(&app, "/api/auth/me", &token)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    get(&app, "/api/sites", &key).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn bad_key_requests_are_400s_that_name_the_field() {
    let app = app().await;
    let (token, _) = app.user("valid@example.com").await;
    let cases = [
        (json!({"scope": "read"}), "name"),
        (json!({"name": "x"}), "scope"),
        (json!({"name": "", "scope": "read"}), "name"),
        (json!({"name": "a\u{0}b", "scope": "read"}), "name"),
        (json!({"name": "x".repeat(65), "scope": "read"}), "name"),
        (json!({"name": "x", "scope": "write"}), "scope"),
        (json!({"name": "x", "scope": 1}), "scope"),
        (json!({"name": 5, "scope": "read"}), "name"),
        (json!({"name": "x", "scope": "read", "extra": 1}), "extra"),
        (json!([]), "body"),
    ];
    for (body, field) in cases {
        let msg = app
            .call(
                Method::POST,
                "/api/auth/keys",
                Some(&token),
                Some(body.clone()),
            )
            .await
            .expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let msg = app
        .raw(
            Method::POST,
            "/api/auth/keys",
            Some(&token),
            Some(b"{".to_vec()),
        )
        .await
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("malformed JSON"), "{msg}");
    assert!(list_keys(&app, &token).await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_user_has_at_most_fifty_keys() {
    let app = app().await;
    let (token, _) = app.user("many@example.com").await;
    let mut first = None;
    for _ in 0..MAX_KEYS_PER_USER {
        let data = create_key(&app, &token, "k", "ingest").await;
        first.get_or_insert(data["id"].clone());
    }
    let msg = app
        .call(
            Method::POST,
            "/api/auth/keys",
            Some(&token),
            Some(json!({"name": "k", "scope": "read"})),
        )
        .await
        .expect_error(StatusCode::FORBIDDEN);
    assert!(msg.contains("50"), "{msg}");
    assert_eq!(list_keys(&app, &token).await.as_array().unwrap().len(), 50);

    // Revoking one makes room for one.
    let path = format!("/api/auth/keys/{}", first.unwrap());
    app.call(Method::DELETE, &path, Some(&token), None)
        .await
        .expect(StatusCode::OK);
    create_key(&app, &token, "k", "read").await;
    app.call(
        Method::POST,
        "/api/auth/keys",
        Some(&token),
        Some(json!({"name": "k", "scope": "read"})),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_cap_holds_under_parallel_creations() {
    let app = app().await;
    let (token, user_id) = app.user("race@example.com").await;
    let replies = futures::future::join_all((0..60).map(|i| {
        app.call(
            Method::POST,
            "/api/auth/keys",
            Some(&token),
            Some(json!({"name": format!("k{i}"), "scope": "read"})),
        )
    }))
    .await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let refused = replies
        .iter()
        .filter(|r| r.status == StatusCode::FORBIDDEN)
        .count();
    assert_eq!((created, refused), (50, 10));
    assert_eq!(app.state.db.list_api_keys(user_id).await.unwrap().len(), 50);
}

#[tokio::test]
async fn recording_a_use_never_brings_back_a_revoked_key() {
    let app = app().await;
    let (token, _) = app.user("ghost@example.com").await;
    let data = create_key(&app, &token, "old", "read").await;
    let hash = hash_key(data["key"].as_str().unwrap());
    let stored = app.state.db.find_api_key(&hash).await.unwrap().unwrap();
    let path = format!("/api/auth/keys/{}", data["id"]);
    app.call(Method::DELETE, &path, Some(&token), None)
        .await
        .expect(StatusCode::OK);
    // A request that read the key just before the revocation records its use after it.
    note_use(&app.state, &stored, chrono::Utc::now()).await;
    assert!(app.state.db.find_api_key(&hash).await.unwrap().is_none());
}
