//! Sign-ins as refresh-token families: rotation, reuse detection, the two-tab grace,
//! sign-out, and e-mail changes that need the password or a fresh sign-in.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use pingoo::auth::token::{ACCESS_TTL_SECS, Grant, REFRESH_TTL_SECS, TokenKind};
use pingoo_stack::testkit::{Reply, TestApp};
use serde_json::{Value, json};

async fn app_with_grace(grace_secs: u64) -> TestApp {
    TestApp::with_config(pingoo_auth::router, |config| {
        config.refresh_reuse_grace = Duration::from_secs(grace_secs);
    })
    .await
}

/// `data` of a fresh sign-in of ada (registering her the first time).
async fn sign_in(app: &TestApp) -> Value {
    let body = json!({"email": "ada@example.com", "password": "password123"});
    let reply = app
        .call(Method::POST, "/api/auth/register", None, Some(body.clone()))
        .await;
    let reply = if reply.status == StatusCode::CONFLICT {
        app.call(Method::POST, "/api/auth/login", None, Some(body))
            .await
    } else {
        reply
    };
    reply.expect(StatusCode::OK)["data"].clone()
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

async fn refresh(app: &TestApp, token: &Value) -> Reply {
    app.call(
        Method::POST,
        "/api/auth/refresh",
        None,
        Some(json!({"refresh_token": token})),
    )
    .await
}

async fn me(app: &TestApp, token: &Value) -> StatusCode {
    app.call(Method::GET, "/api/auth/me", Some(text(token)), None)
        .await
        .status
}

#[tokio::test]
async fn every_refresh_rotates_and_a_reused_token_revokes_its_whole_sign_in() {
    let app = app_with_grace(0).await;
    let first = sign_in(&app).await;
    let other_sign_in = sign_in(&app).await;

    // The answer has login's shape, with a new refresh token; the used one stops working.
    let second = refresh(&app, &first["refresh_token"]).await;
    let second = second.expect(StatusCode::OK)["data"].clone();
    let keys: Vec<&String> = second.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["expires_in", "refresh_token", "token", "user"]);
    assert_eq!(second["expires_in"], ACCESS_TTL_SECS);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let third = refresh(&app, &second["refresh_token"]).await;
    let third = third.expect(StatusCode::OK)["data"].clone();
    assert_eq!(me(&app, &third["token"]).await, StatusCode::OK);

    // A thief replays the first token: reuse. The whole family is revoked, the owner's
    // newest refresh and access tokens included.
    let msg = refresh(&app, &first["refresh_token"])
        .await
        .expect_error(StatusCode::UNAUTHORIZED);
    assert!(msg.contains("already used"), "{msg}");
    let msg = refresh(&app, &third["refresh_token"])
        .await
        .expect_error(StatusCode::UNAUTHORIZED);
    assert_eq!(msg, "invalid refresh token: token has been revoked");
    assert_eq!(me(&app, &third["token"]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &first["token"]).await, StatusCode::UNAUTHORIZED);

    // Another sign-in of the same user is its own family and keeps working.
    assert_eq!(me(&app, &other_sign_in["token"]).await, StatusCode::OK);
    refresh(&app, &other_sign_in["refresh_token"])
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn two_tabs_refreshing_with_the_same_token_keep_the_sign_in() {
    let app = app_with_grace(30).await;
    let first = sign_in(&app).await;
    // Both tabs send the same refresh token, at once.
    let (a, b) = futures::join!(
        refresh(&app, &first["refresh_token"]),
        refresh(&app, &first["refresh_token"])
    );
    let (a, b) = (a.expect(StatusCode::OK), b.expect(StatusCode::OK));
    for tab in [a, b] {
        assert_eq!(me(&app, &tab["data"]["token"]).await, StatusCode::OK);
    }
    // The family moved on once: either tab's new token refreshes once more.
    let next = refresh(&app, &a["data"]["refresh_token"]).await;
    next.expect(StatusCode::OK);
    // Past the grace (the token two generations back) a replay is still a reuse.
    refresh(&app, &first["refresh_token"])
        .await
        .expect_error(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn concurrent_refreshes_without_grace_rotate_exactly_once() {
    let app = app_with_grace(0).await;
    let first = sign_in(&app).await;
    let replies =
        futures::future::join_all((0..6).map(|_| refresh(&app, &first["refresh_token"]))).await;
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    // One wins the rotation; the rest are reuses, which revoke the family.
    assert_eq!(ok, 1, "{replies:?}");
    let winner = replies.iter().find(|r| r.status == StatusCode::OK).unwrap();
    assert_eq!(
        me(&app, &winner.body["data"]["token"]).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn tokens_from_before_families_refresh_into_a_new_family() {
    let app = app_with_grace(0).await;
    let data = sign_in(&app).await;
    let user_id = data["user"]["id"].as_u64().unwrap();
    let now = chrono::Utc::now().timestamp();
    let legacy = app
        .state
        .tokens
        .issue(user_id, 0, TokenKind::Refresh, now, REFRESH_TTL_SECS)
        .unwrap();
    let legacy = Value::from(legacy);
    let reply = refresh(&app, &legacy).await;
    let fresh = reply.expect(StatusCode::OK)["data"].clone();
    let claims = app
        .state
        .tokens
        .verify(text(&fresh["refresh_token"]), TokenKind::Refresh)
        .unwrap();
    assert!(claims.fam.is_some());
    assert_eq!(me(&app, &fresh["token"]).await, StatusCode::OK);
}

#[tokio::test]
async fn logout_ends_one_sign_in_and_logout_all_ends_every_one() {
    let app = app_with_grace(30).await;
    let laptop = sign_in(&app).await;
    let phone = sign_in(&app).await;

    let reply = app
        .call(
            Method::POST,
            "/api/auth/logout",
            Some(text(&laptop["token"])),
            None,
        )
        .await;
    assert_eq!(
        reply.expect(StatusCode::OK),
        &json!({"code": 0, "msg": "success", "data": "signed out"})
    );
    assert_eq!(me(&app, &laptop["token"]).await, StatusCode::UNAUTHORIZED);
    refresh(&app, &laptop["refresh_token"])
        .await
        .expect_error(StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &phone["token"]).await, StatusCode::OK);

    let reply = app
        .call(
            Method::POST,
            "/api/auth/logout-all",
            Some(text(&phone["token"])),
            None,
        )
        .await;
    reply.expect(StatusCode::OK);
    assert_eq!(me(&app, &phone["token"]).await, StatusCode::UNAUTHORIZED);
    refresh(&app, &phone["refresh_token"])
        .await
        .expect_error(StatusCode::UNAUTHORIZED);
    // Signing in again works.
    let again = sign_in(&app).await;
    assert_eq!(me(&app, &again["token"]).await, StatusCode::OK);
    // Without a token, both are 401.
    let reply = app.call(Method::POST, "/api/auth/logout", None, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

async fn profile(app: &TestApp, token: &str, body: Value) -> Reply {
    app.call(Method::PUT, "/api/auth/profile", Some(token), Some(body))
        .await
}

#[tokio::test]
async fn an_email_change_needs_the_password_or_a_fresh_sign_in_and_revokes_other_tokens() {
    let app = app_with_grace(30).await;
    let fresh = sign_in(&app).await;
    let other = sign_in(&app).await;
    let claims = app
        .state
        .tokens
        .verify(text(&fresh["token"]), TokenKind::Access)
        .unwrap();
    // The same sign-in, as if its password had been given 20 minutes ago.
    let now = chrono::Utc::now().timestamp();
    let stale = app
        .state
        .tokens
        .issue_for(
            &Grant {
                user_id: claims.user_id().unwrap(),
                version: claims.ver,
                family: claims.fam.as_deref(),
                generation: 0,
                auth_time: Some(now - 20 * 60),
            },
            TokenKind::Access,
            now,
            ACCESS_TTL_SECS,
        )
        .unwrap();

    // A username alone needs neither, and issues no tokens.
    let reply = profile(&app, &stale, json!({"username": "Ada L."})).await;
    let data = reply.expect(StatusCode::OK)["data"].clone();
    assert_eq!(
        data,
        json!({"id": 1, "username": "Ada L.", "email": "ada@example.com", "role": "user"})
    );

    // An e-mail from a stale sign-in: 403 saying what is missing; a wrong password: 403.
    let msg = profile(&app, &stale, json!({"email": "lovelace@example.com"}))
        .await
        .expect_error(StatusCode::FORBIDDEN);
    assert!(msg.contains("current password (`password`)"), "{msg}");
    assert!(msg.contains("15 minutes"), "{msg}");
    let body = json!({"email": "lovelace@example.com", "password": "not-it-at-all"});
    let msg = profile(&app, &stale, body)
        .await
        .expect_error(StatusCode::FORBIDDEN);
    assert_eq!(msg, "password is incorrect");

    // With the password it works, answers the caller's new tokens, and revokes the rest.
    let body = json!({"email": "lovelace@example.com", "password": "password123"});
    let reply = profile(&app, &stale, body).await;
    let data = reply.expect(StatusCode::OK)["data"].clone();
    assert_eq!(data["email"], "lovelace@example.com");
    assert_eq!(data["expires_in"], ACCESS_TTL_SECS);
    assert_eq!(me(&app, &data["token"]).await, StatusCode::OK);
    refresh(&app, &data["refresh_token"])
        .await
        .expect(StatusCode::OK);
    for revoked in [&fresh["token"], &other["token"], &Value::from(stale)] {
        assert_eq!(me(&app, revoked).await, StatusCode::UNAUTHORIZED);
    }
    refresh(&app, &other["refresh_token"])
        .await
        .expect_error(StatusCode::UNAUTHORIZED);

    // Right after a password sign-in, no password is needed.
    let body = json!({"email": "lovelace@example.com", "password": "password123"});
    let login = app
        .call(Method::POST, "/api/auth/login", None, Some(body))
        .await;
    let token = text(&login.expect(StatusCode::OK)["data"]["token"]).to_owned();
    let reply = profile(&app, &token, json!({"email": "ada@example.com"})).await;
    assert_eq!(
        reply.expect(StatusCode::OK)["data"]["email"],
        "ada@example.com"
    );
}
