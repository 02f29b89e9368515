//! Share links: the owner's endpoints, and the public read-only view of one site, through
//! DynamoDB Local's stream and the local poller.

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::{Reply, TestApp, Visitor};
use serde_json::{Value, json};
use support::{at, day, event, put};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    app.call_as(
        method,
        path,
        token,
        &Visitor::default(),
        body.map(|b| b.to_string().into_bytes()),
    )
    .await
}

#[tokio::test]
async fn a_share_shows_one_sites_figures_to_anyone_until_it_is_revoked_or_expires() {
    let app = support::streaming().await;
    let (owner, _) = app.user("owner@example.com").await;
    let site = app.site(&owner, "https://example.com").await;
    let other_site = app.site(&owner, "https://other.example").await;
    let d = day(2025, 9, 16);
    let events: Vec<_> = (0..5)
        .map(|i| {
            event(
                &site,
                at(d, 100 + i),
                &format!("s{}", i % 2),
                "203.0.113.4",
                "/a",
                "page_view",
            )
        })
        .collect();
    put(&app.state.db, &events).await;
    let summary_path = format!("/api/events/{}/summary?date=20250916", site.id);
    let deadline = Instant::now() + Duration::from_secs(20);
    let owners = loop {
        let s = call(&app, Method::GET, &summary_path, Some(&owner), None).await;
        let b = call(
            &app,
            Method::GET,
            &format!("/api/events/{}/breakdown?date=20250916", site.id),
            Some(&owner),
            None,
        )
        .await;
        if s.body["data"]["pv"] == 5 && b.body["data"]["url"]["list"][0]["count"] == 5 {
            break (s.body["data"].clone(), b.body["data"].clone());
        }
        assert!(Instant::now() < deadline, "never counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let created = call(
        &app,
        Method::POST,
        &format!("/api/sites/{}/shares", site.id),
        Some(&owner),
        Some(json!({})),
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 22, "at least 128 bits");
    assert_eq!(created["url"], format!("/share/{token}"));
    assert_eq!(created["has_password"], false);
    let listed = call(
        &app,
        Method::GET,
        &format!("/api/sites/{}/shares", site.id),
        Some(&owner),
        None,
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(listed[0]["token"], token.as_str());

    // Anyone, without signing in, sees that one site: its name, domain and time zone.
    let info = call(
        &app,
        Method::GET,
        &format!("/api/share/{token}"),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(
        info,
        json!({"site": {"name": site.name, "domain": site.domain, "timezone": site.timezone}, "has_password": false})
    );
    let shared = call(
        &app,
        Method::GET,
        &format!("/api/share/{token}/summary?date=20250916"),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(shared, owners.0, "the same summary as the owner's");
    let shared_b = call(
        &app,
        Method::GET,
        &format!("/api/share/{token}/breakdown?date=20250916"),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(shared_b, owners.1);
    let ranking = call(
        &app,
        Method::GET,
        &format!("/api/share/{token}/stats?date=20250916&stat_type=url"),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(ranking["list"][0]["key"], "/a");
    call(
        &app,
        Method::GET,
        &format!("/api/share/{token}/realtime"),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK);
    // Never raw events, nor another site.
    call(
        &app,
        Method::GET,
        &format!("/api/share/{token}/events"),
        None,
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND);
    call(
        &app,
        Method::GET,
        &format!("/api/share/{token}/summary?site_id={}", other_site.id),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK);
    // The share is no JWT.
    let refused = call(&app, Method::GET, "/api/sites", Some(&token), None).await;
    assert!(refused.expect(StatusCode::UNAUTHORIZED)["error"].is_string());

    // Someone else can neither list, create nor revoke this site's shares.
    let (stranger, _) = app.user("stranger@example.com").await;
    for (method, path) in [
        (Method::GET, format!("/api/sites/{}/shares", site.id)),
        (Method::POST, format!("/api/sites/{}/shares", site.id)),
        (
            Method::DELETE,
            format!("/api/sites/{}/shares/{}", site.id, created["id"]),
        ),
    ] {
        let body = (method == Method::POST).then(|| json!({}));
        call(&app, method, &path, Some(&stranger), body)
            .await
            .expect_error(StatusCode::FORBIDDEN);
    }

    // Revoked: 404 at once, the same answer as an unknown or expired token.
    call(
        &app,
        Method::DELETE,
        &format!("/api/sites/{}/shares/{}", site.id, created["id"]),
        Some(&owner),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let revoked = call(
        &app,
        Method::GET,
        &format!("/api/share/{token}/summary"),
        None,
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND);
    let unknown = call(
        &app,
        Method::GET,
        "/api/share/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        None,
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND);
    let huge = call(
        &app,
        Method::GET,
        &format!("/api/share/{}", "a".repeat(3000)),
        None,
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND);
    let expired = pingoo::store::Share {
        id: 999_999,
        site_id: site.id,
        token: "expiredexpiredexpiredexpired".into(),
        created_at: "2025-01-01T00:00:00Z".into(),
        expires_at: Some("2025-01-02T00:00:00Z".into()),
        password_hash: None,
    };
    app.state.db.create_share(&expired).await.unwrap();
    let old = call(
        &app,
        Method::GET,
        &format!("/api/share/{}", expired.token),
        None,
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND);
    assert_eq!(revoked, unknown);
    assert_eq!(unknown, huge);
    assert_eq!(huge, old);

    for (body, field) in [
        (json!({"expires_at": "tomorrow"}), "expires_at"),
        (json!({"expires_at": "2001-01-01T00:00:00Z"}), "expires_at"),
        (json!({"password": "x".repeat(200)}), "password"),
        (json!({"colour": "blue"}), "colour"),
    ] {
        let msg = call(
            &app,
            Method::POST,
            &format!("/api/sites/{}/shares", site.id),
            Some(&owner),
            Some(body),
        )
        .await
        .expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.contains(field), "{msg}");
    }
}

#[tokio::test]
async fn a_password_share_needs_its_own_unlock_token_and_limits_guesses() {
    let app = TestApp::new(pingoo_local::app).await;
    let (owner, _) = app.user("owner@example.com").await;
    let site = app.site(&owner, "https://example.com").await;
    let other = app.site(&owner, "https://other.example").await;
    let create = |site_id: u64, password: &str| {
        let body = json!({"password": password, "expires_at": "2999-01-01T00:00:00Z"});
        let path = format!("/api/sites/{site_id}/shares");
        let app = &app;
        let owner = owner.clone();
        async move {
            call(app, Method::POST, &path, Some(&owner), Some(body))
                .await
                .expect(StatusCode::OK)["data"]
                .clone()
        }
    };
    let a = create(site.id, "s3cret-pass").await;
    let b = create(other.id, "other-pass").await;
    assert_eq!(a["has_password"], true);
    assert_eq!(a["expires_at"], "2999-01-01T00:00:00Z");
    let (ta, tb) = (a["token"].as_str().unwrap(), b["token"].as_str().unwrap());

    let info = call(&app, Method::GET, &format!("/api/share/{ta}"), None, None)
        .await
        .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(info["has_password"], true);
    call(
        &app,
        Method::GET,
        &format!("/api/share/{ta}/summary"),
        None,
        None,
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED);
    call(
        &app,
        Method::POST,
        &format!("/api/share/{ta}/unlock"),
        None,
        Some(json!({"password": "nope"})),
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED);
    let unlocked = call(
        &app,
        Method::POST,
        &format!("/api/share/{ta}/unlock"),
        None,
        Some(json!({"password": "s3cret-pass"})),
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(unlocked["expires_in"], 3600);
    let key = unlocked["token"].as_str().unwrap();
    call(
        &app,
        Method::GET,
        &format!("/api/share/{ta}/summary"),
        Some(key),
        None,
    )
    .await
    .expect(StatusCode::OK);
    // Scoped to that share alone, and no access token.
    call(
        &app,
        Method::GET,
        &format!("/api/share/{tb}/summary"),
        Some(key),
        None,
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED);
    let refused = call(&app, Method::GET, "/api/sites", Some(key), None).await;
    assert!(refused.expect(StatusCode::UNAUTHORIZED)["error"].is_string());
    call(
        &app,
        Method::GET,
        &format!("/api/share/{ta}/summary"),
        Some(&owner),
        None,
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED);

    // Guessing is limited per share and network, as logins are.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = call(
            &app,
            Method::POST,
            &format!("/api/share/{tb}/unlock"),
            None,
            Some(json!({"password": "guess"})),
        )
        .await;
        statuses.push(r.status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_site_has_at_most_fifty_shares() {
    let app = TestApp::new(pingoo_local::app).await;
    let (owner, _) = app.user("owner@example.com").await;
    let site = app.site(&owner, "https://example.com").await;
    let path = format!("/api/sites/{}/shares", site.id);
    for _ in 0..pingoo::shares::MAX_SHARES_PER_SITE {
        call(&app, Method::POST, &path, Some(&owner), Some(json!({})))
            .await
            .expect(StatusCode::OK);
    }
    let msg = call(&app, Method::POST, &path, Some(&owner), Some(json!({})))
        .await
        .expect_error(StatusCode::FORBIDDEN);
    assert!(msg.contains("50"), "{msg}");
}

#[tokio::test]
async fn deleting_the_site_or_the_account_deletes_its_shares() {
    let app = TestApp::new(pingoo_local::app).await;
    let (owner, _) = app.user("owner@example.com").await;
    let site = app.site(&owner, "https://example.com").await;
    let kept = app.site(&owner, "https://kept.example").await;
    let mut tokens = Vec::new();
    for s in [site.id, kept.id] {
        let created = call(
            &app,
            Method::POST,
            &format!("/api/sites/{s}/shares"),
            Some(&owner),
            Some(json!({})),
        )
        .await
        .expect(StatusCode::OK)["data"]
            .clone();
        tokens.push(created["token"].as_str().unwrap().to_owned());
    }
    // An API key cannot manage shares.
    let key = call(
        &app,
        Method::POST,
        "/api/auth/keys",
        Some(&owner),
        Some(json!({"name": "k", "scope": "read"})),
    )
    .await
    .expect(StatusCode::OK)["data"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let msg = call(
        &app,
        Method::POST,
        &format!("/api/sites/{}/shares", site.id),
        Some(&key),
        Some(json!({})),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN);
    assert!(msg.contains("read"), "{msg}");

    call(
        &app,
        Method::DELETE,
        &format!("/api/sites/{}", site.id),
        Some(&owner),
        None,
    )
    .await
    .expect(StatusCode::OK);
    call(
        &app,
        Method::GET,
        &format!("/api/share/{}", tokens[0]),
        None,
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND);
    assert!(app.state.db.list_shares(site.id).await.unwrap().is_empty());
    assert!(app.state.db.get_share(&tokens[0]).await.unwrap().is_none());
    call(
        &app,
        Method::GET,
        &format!("/api/share/{}", tokens[1]),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK);

    call(
        &app,
        Method::DELETE,
        "/api/auth/me",
        Some(&owner),
        Some(json!({"password": "password123"})),
    )
    .await
    .expect(StatusCode::OK);
    assert!(app.state.db.get_share(&tokens[1]).await.unwrap().is_none());
}
