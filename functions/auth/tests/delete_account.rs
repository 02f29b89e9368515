//! `DELETE /api/auth/me` over HTTP against DynamoDB Local, with the auth, sites and events
//! routes merged as the local runner does.

mod common;

use axum::http::{Method, StatusCode};
use common::{app, new_key};
use pingoo::auth::keys::hash_key;
use pingoo_stack::testkit::{Reply, TestApp};
use serde_json::{Value, json};

async fn register(app: &TestApp, email: &str) -> Value {
    app.call(
        Method::POST,
        "/api/auth/register",
        None,
        Some(json!({"email": email, "password": "password123"})),
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone()
}

async fn delete_me(app: &TestApp, token: &str, body: Value) -> Reply {
    app.call(Method::DELETE, "/api/auth/me", Some(token), Some(body))
        .await
}

#[tokio::test]
async fn a_wrong_or_missing_password_deletes_nothing() {
    let app = app().await;
    let (token, _) = app.user("keep@example.com").await;
    let site = app.site(&token, "https://keep.example").await;

    let msg = delete_me(&app, &token, json!({"password": "wrong-password"}))
        .await
        .expect_error(StatusCode::UNAUTHORIZED);
    assert_eq!(msg, "password is incorrect");
    let long = "x".repeat(10_000);
    delete_me(&app, &token, json!({"password": long}))
        .await
        .expect_error(StatusCode::UNAUTHORIZED);
    for (body, field) in [
        (json!({}), "password"),
        (json!({"password": ""}), "password"),
        (json!({"password": 5}), "password"),
        (json!({"password": "password123", "extra": 1}), "extra"),
    ] {
        let msg = delete_me(&app, &token, body.clone())
            .await
            .expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let msg = app
        .call(Method::DELETE, "/api/auth/me", Some(&token), None)
        .await
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(msg.contains("JSON object"), "{msg}");

    // Still all there, and the token still works.
    app.call(Method::GET, "/api/auth/me", Some(&token), None)
        .await
        .expect(StatusCode::OK);
    let path = format!("/api/sites/{}", site.id);
    app.call(Method::GET, &path, Some(&token), None)
        .await
        .expect(StatusCode::OK);
    assert!(app.state.db.purge_jobs().await.unwrap().is_empty());
}

#[tokio::test]
async fn deleting_an_account_removes_its_tokens_keys_sites_and_address() {
    let app = app().await;
    let auth = register(&app, "leaver@example.com").await;
    let token = auth["token"].as_str().unwrap().to_owned();
    let refresh = auth["refresh_token"].as_str().unwrap().to_owned();
    let user_id = auth["user"]["id"].as_u64().unwrap();
    let sites = [
        app.site(&token, "https://one.example").await,
        app.site(&token, "https://two.example").await,
    ];
    let key = new_key(&app, &token, "read_ingest").await;
    let event = json!({"site_id": sites[0].id, "session_id": "s1", "url": "https://one.example/", "event_type": "page_view"});
    app.call(Method::POST, "/api/events", Some(&key), Some(event))
        .await
        .expect(StatusCode::OK);
    // Someone else's site stays.
    let (other, _) = app.user("stays@example.com").await;
    let kept = app.site(&other, "https://kept.example").await;

    let reply = delete_me(&app, &token, json!({"password": "password123"})).await;
    assert_eq!(
        reply.expect(StatusCode::OK),
        &json!({"code": 0, "msg": "success", "data": "account deleted"})
    );

    // Every token and key of that user is refused like a bad JWT.
    let me = app
        .call(Method::GET, "/api/auth/me", Some(&token), None)
        .await;
    let body = me.expect(StatusCode::UNAUTHORIZED);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid token: "),
        "{body}"
    );
    let with_key = app.call(Method::GET, "/api/sites", Some(&key), None).await;
    assert_eq!(
        with_key.expect(StatusCode::UNAUTHORIZED),
        &json!({"error": "Invalid token: unknown or revoked API key"})
    );
    app.call(
        Method::POST,
        "/api/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh})),
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED);
    delete_me(&app, &token, json!({"password": "password123"}))
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let db = &app.state.db;
    assert!(db.get_user(user_id).await.unwrap().is_none());
    assert!(db.find_api_key(&hash_key(&key)).await.unwrap().is_none());
    assert!(db.list_api_keys(user_id).await.unwrap().is_empty());
    assert!(db.list_sites(user_id).await.unwrap().is_empty());

    // The sites are gone, their tracking ids too, and each has a purge job.
    let mut purged: Vec<u64> = db
        .purge_jobs()
        .await
        .unwrap()
        .iter()
        .map(|job| job.site_id)
        .collect();
    purged.sort_unstable();
    assert_eq!(purged, [sites[0].id, sites[1].id]);
    for site in &sites {
        assert!(db.get_site(site.id).await.unwrap().is_none());
        assert!(
            db.find_site_by_tracking_id(&site.tracking_id)
                .await
                .unwrap()
                .is_none()
        );
    }

    // The address can register again: a new user, who sees 404 for the old sites.
    let again = register(&app, "Leaver@example.com").await;
    assert_ne!(again["user"]["id"].as_u64().unwrap(), user_id);
    let new_token = again["token"].as_str().unwrap();
    for site in &sites {
        let path = format!("/api/sites/{}", site.id);
        app.call(Method::GET, &path, Some(new_token), None)
            .await
            .expect_error(StatusCode::NOT_FOUND);
    }
    let list = app
        .call(Method::GET, "/api/sites", Some(new_token), None)
        .await;
    assert_eq!(list.expect(StatusCode::OK)["data"]["list"], json!([]));

    // The other user is untouched.
    let path = format!("/api/sites/{}", kept.id);
    app.call(Method::GET, &path, Some(&other), None)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn an_account_without_sites_or_keys_is_deleted_too() {
    let app = app().await;
    let (token, user_id) = app.user("empty@example.com").await;
    delete_me(&app, &token, json!({"password": "password123"}))
        .await
        .expect(StatusCode::OK);
    assert!(app.state.db.get_user(user_id).await.unwrap().is_none());
    assert!(
        app.state
            .db
            .find_user_by_email("empty@example.com")
            .await
            .unwrap()
            .is_none()
    );
}
