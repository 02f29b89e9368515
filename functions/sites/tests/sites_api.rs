//! `/api/sites*` over HTTP against DynamoDB Local.

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::TestApp;
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(pingoo_sites::router).await
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let reply = app
        .call(Method::POST, "/api/sites", Some(token), Some(body))
        .await;
    reply.expect(StatusCode::OK)["data"].clone()
}

#[tokio::test]
async fn create_answers_the_specs_shape_plus_tracking_id_and_timezone() {
    let app = app().await;
    let (token, user_id) = app.user("owner@example.com").await;
    let reply = app
        .call(
            Method::POST,
            "/api/sites",
            Some(&token),
            Some(json!({"name": "我的网站", "domain": "https://example.com"})),
        )
        .await;
    let body = reply.expect(StatusCode::OK);
    assert_eq!(body["code"], 0);
    assert_eq!(body["msg"], "success");
    let site = &body["data"];
    let keys: Vec<&str> = site
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "created_at",
            "domain",
            "id",
            "name",
            "timezone",
            "tracking_id",
            "updated_at",
            "user_id"
        ]
    );
    assert_eq!(site["id"], 1);
    assert_eq!(site["user_id"], user_id);
    assert_eq!(site["name"], "我的网站");
    assert_eq!(site["domain"], "https://example.com");
    assert_eq!(site["timezone"], "UTC");
    assert_eq!(site["tracking_id"].as_str().unwrap().len(), 22);
    assert!(chrono::DateTime::parse_from_rfc3339(site["created_at"].as_str().unwrap()).is_ok());

    let again = create(
        &app,
        &token,
        json!({"name": "b", "domain": "b.example.com", "timezone": "Asia/Shanghai"}),
    )
    .await;
    assert_eq!(again["id"], 2);
    assert_eq!(again["timezone"], "Asia/Shanghai");
    assert_ne!(again["tracking_id"], site["tracking_id"]);
}

#[tokio::test]
async fn get_update_and_delete() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = create(
        &app,
        &token,
        json!({"name": "Pingoo", "domain": "http://127.0.0.1:5004/"}),
    )
    .await;
    assert_eq!(site["domain"], "http://127.0.0.1:5004");
    let path = format!("/api/sites/{}", site["id"]);

    let got = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(got.expect(StatusCode::OK)["data"], site);

    let updated = app
        .call(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"name": "新站点名称", "domain": "https://newdomain.com"})),
        )
        .await;
    let updated = updated.expect(StatusCode::OK)["data"].clone();
    assert_eq!(updated["name"], "新站点名称");
    assert_eq!(updated["domain"], "https://newdomain.com");
    assert_eq!(updated["created_at"], site["created_at"]);
    assert_eq!(updated["tracking_id"], site["tracking_id"]);
    assert_ne!(updated["updated_at"], site["updated_at"]);

    let tz = app
        .call(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"timezone": "Europe/Paris"})),
        )
        .await;
    assert_eq!(
        tz.expect(StatusCode::OK)["data"]["timezone"],
        "Europe/Paris"
    );
    assert_eq!(tz.body["data"]["name"], "新站点名称");

    let deleted = app.call(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(
        deleted.expect(StatusCode::OK),
        &json!({"code": 0, "msg": "success", "data": "站点删除成功"})
    );
    let gone = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(
        gone.expect_error(StatusCode::NOT_FOUND),
        format!("site {} not found", site["id"])
    );
    let again = app.call(Method::DELETE, &path, Some(&token), None).await;
    again.expect_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_owner_reads_or_changes_a_site() {
    let app = app().await;
    let (owner, _) = app.user("owner@example.com").await;
    let (other, _) = app.user("other@example.com").await;
    let site = create(
        &app,
        &owner,
        json!({"name": "mine", "domain": "example.com"}),
    )
    .await;
    let path = format!("/api/sites/{}", site["id"]);

    let cases = [
        (Method::GET, path.clone(), None),
        (Method::PUT, path.clone(), Some(json!({"name": "stolen"}))),
        (Method::DELETE, format!("{path}/stats"), None),
        (Method::DELETE, path.clone(), None),
    ];
    for (method, path, body) in cases {
        let reply = app.call(method.clone(), &path, Some(&other), body).await;
        let msg = reply.expect_error(StatusCode::FORBIDDEN);
        assert!(
            msg.contains("belongs to another user"),
            "{method} {path}: {msg}"
        );
    }
    // Untouched.
    let got = app.call(Method::GET, &path, Some(&owner), None).await;
    assert_eq!(got.expect(StatusCode::OK)["data"], site);

    // The other user's list is empty.
    let list = app
        .call(Method::GET, "/api/sites", Some(&other), None)
        .await;
    assert_eq!(
        list.expect(StatusCode::OK)["data"],
        json!({"list": [], "total": 0, "page": 1, "page_size": 10})
    );
}

#[tokio::test]
async fn ids_are_checked_and_missing_sites_are_404() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    for bad in ["abc", "0", "-1", "1.5", "99999999999999999999999"] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/sites/{bad}"),
                Some(&token),
                None,
            )
            .await;
        let msg = reply.expect_error(StatusCode::BAD_REQUEST);
        assert!(
            msg.starts_with("id must be a positive integer"),
            "{bad}: {msg}"
        );
    }
    let reply = app
        .call(Method::GET, "/api/sites/4242", Some(&token), None)
        .await;
    assert_eq!(
        reply.expect_error(StatusCode::NOT_FOUND),
        "site 4242 not found"
    );
    let reply = app
        .call(
            Method::PUT,
            "/api/sites/4242",
            Some(&token),
            Some(json!({"name": "x"})),
        )
        .await;
    reply.expect_error(StatusCode::NOT_FOUND);
    let reply = app
        .call(Method::DELETE, "/api/sites/4242/stats", Some(&token), None)
        .await;
    reply.expect_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_pages_searches_and_sorts_newest_first() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    for i in 1..=12 {
        let domain = if i % 3 == 0 {
            format!("shop{i}.example.org")
        } else {
            format!("blog{i}.example.com")
        };
        create(
            &app,
            &token,
            json!({"name": format!("Site {i}"), "domain": domain}),
        )
        .await;
    }
    let list = app
        .call(Method::GET, "/api/sites", Some(&token), None)
        .await;
    let data = list.expect(StatusCode::OK)["data"].clone();
    assert_eq!(data["total"], 12);
    assert_eq!(data["page"], 1);
    assert_eq!(data["page_size"], 10);
    let ids: Vec<u64> = data["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (3..=12).rev().collect::<Vec<_>>());

    let page2 = app
        .call(Method::GET, "/api/sites?page=2&limit=5", Some(&token), None)
        .await;
    let data = page2.expect(StatusCode::OK)["data"].clone();
    let ids: Vec<u64> = data["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [7, 6, 5, 4, 3]);
    assert_eq!(data["page_size"], 5);

    // Case-insensitive substring of the name or the domain.
    let found = app
        .call(Method::GET, "/api/sites?search=SHOP", Some(&token), None)
        .await;
    let data = found.expect(StatusCode::OK)["data"].clone();
    assert_eq!(data["total"], 4);
    let found = app
        .call(
            Method::GET,
            "/api/sites?search=site%2011",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(found.expect(StatusCode::OK)["data"]["list"][0]["id"], 11);

    let capped = app
        .call(Method::GET, "/api/sites?limit=1000", Some(&token), None)
        .await;
    assert_eq!(capped.expect(StatusCode::OK)["data"]["page_size"], 100);
    for bad in ["page=0", "page=abc", "limit=0", "limit=-3"] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/sites?{bad}"),
                Some(&token),
                None,
            )
            .await;
        reply.expect_error(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn bad_site_input_is_400_naming_the_field() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let cases = [
        (json!({"name": "x", "domain": ""}), "domain is required"),
        (
            json!({"name": "x", "domain": "javascript:alert(1)"}),
            "domain ",
        ),
        (
            json!({"name": "x", "domain": "exa mple.com"}),
            "domain must not contain spaces",
        ),
        (
            json!({"name": "x", "domain": "ftp://example.com"}),
            "domain must use http or https",
        ),
        (json!({"name": "", "domain": "example.com"}), "name must be"),
        (
            json!({"name": "x", "domain": "example.com", "timezone": "Mars/Base"}),
            "timezone \"Mars/Base\"",
        ),
        (
            json!({"name": "x"}),
            "invalid request body: missing field `domain`",
        ),
        (
            json!({"name": "x", "domain": "example.com", "user_id": 9}),
            "invalid field `user_id`: unknown field `user_id`, expected one of `name`, `domain`, `timezone`",
        ),
        (
            json!({"name": ["x"], "domain": "example.com"}),
            "invalid field `name`",
        ),
    ];
    for (body, expected) in cases {
        let reply = app
            .call(Method::POST, "/api/sites", Some(&token), Some(body.clone()))
            .await;
        let msg = reply.expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.starts_with(expected), "{body}: {msg}");
    }
    let site = create(&app, &token, json!({"name": "ok", "domain": "example.com"})).await;
    let path = format!("/api/sites/{}", site["id"]);
    let reply = app
        .call(Method::PUT, &path, Some(&token), Some(json!({})))
        .await;
    assert!(
        reply
            .expect_error(StatusCode::BAD_REQUEST)
            .starts_with("nothing to update")
    );
    let reply = app
        .call(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"domain": "javascript:x"})),
        )
        .await;
    reply.expect_error(StatusCode::BAD_REQUEST);
    // A failed update leaves the site unchanged.
    let got = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(got.expect(StatusCode::OK)["data"], site);
}

#[tokio::test]
async fn clear_stats_answers_per_the_spec() {
    let app = app().await;
    let (token, _) = app.user("owner@example.com").await;
    let site = create(&app, &token, json!({"name": "x", "domain": "example.com"})).await;
    let reply = app
        .call(
            Method::DELETE,
            &format!("/api/sites/{}/stats", site["id"]),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        reply.expect(StatusCode::OK),
        &json!({"code": 0, "msg": "success", "data": {"message": "统计数据已清空"}})
    );
}

#[tokio::test]
async fn every_route_needs_a_token() {
    let app = app().await;
    for (method, path) in [
        (Method::GET, "/api/sites"),
        (Method::POST, "/api/sites"),
        (Method::GET, "/api/sites/1"),
        (Method::PUT, "/api/sites/1"),
        (Method::DELETE, "/api/sites/1"),
        (Method::DELETE, "/api/sites/1/stats"),
    ] {
        let reply = app.call(method, path, None, None).await;
        assert_eq!(
            reply.expect(StatusCode::UNAUTHORIZED),
            &json!({"error": "Authorization header required"})
        );
    }
    let reply = app.call(Method::PATCH, "/api/sites/1", None, None).await;
    reply.expect_error(StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_user_has_at_most_the_configured_number_of_sites() {
    let app = TestApp::with_config(pingoo_sites::router, |c| c.max_sites_per_user = 2).await;
    let (token, _) = app.user("owner@example.com").await;
    let (other, _) = app.user("other@example.com").await;
    let body =
        |n: u32| json!({"name": format!("site {n}"), "domain": format!("https://s{n}.example")});
    let first = create(&app, &token, body(1)).await;
    create(&app, &token, body(2)).await;
    let refused = app
        .call(Method::POST, "/api/sites", Some(&token), Some(body(3)))
        .await
        .expect_error(StatusCode::FORBIDDEN);
    assert!(refused.contains("at most 2 sites"), "{refused}");
    // Another user's count is their own.
    create(&app, &other, body(4)).await;
    // Deleting a site frees its place.
    let id = first["id"].as_u64().unwrap();
    app.call(
        Method::DELETE,
        &format!("/api/sites/{id}"),
        Some(&token),
        None,
    )
    .await
    .expect(StatusCode::OK);
    create(&app, &token, body(5)).await;
    app.call(Method::POST, "/api/sites", Some(&token), Some(body(6)))
        .await
        .expect_error(StatusCode::FORBIDDEN);
}
