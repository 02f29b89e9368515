//! `/api/auth/*` over HTTP against DynamoDB Local.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use pingoo::auth::token::{ACCESS_TTL_SECS, REFRESH_TTL_SECS, TokenKind};
use pingoo::clock::ManualClock;
use pingoo_stack::testkit::TestApp;
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(pingoo_auth::router).await
}

async fn register(app: &TestApp, email: &str, password: &str) -> Value {
    let reply = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await;
    reply.expect(StatusCode::OK).clone()
}

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    let reply = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await;
    (reply.status, reply.body)
}

#[tokio::test]
async fn register_answers_exactly_the_specs_shape() {
    let app = app().await;
    let body = register(&app, "User@Example.com", "password123").await;
    assert_eq!(body["code"], 0);
    assert_eq!(body["msg"], "success");
    let data = &body["data"];
    let keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["expires_in", "refresh_token", "token", "user"]);
    assert_eq!(data["expires_in"], 259200);
    assert_eq!(
        data["user"],
        json!({"id": 1, "username": "user", "email": "user@example.com", "role": "user"})
    );
    assert!(data["token"].as_str().unwrap().starts_with("eyJ"));

    // Ids are integers that grow.
    let second = register(&app, "second@example.com", "password123").await;
    assert_eq!(second["data"]["user"]["id"], 2);
}

#[tokio::test]
async fn login_me_and_refresh() {
    let app = app().await;
    register(&app, "ada@example.com", "password123").await;

    let (status, body) = login(&app, "ADA@example.com ", "password123").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["data"]["token"].as_str().unwrap().to_owned();
    let refresh_token = body["data"]["refresh_token"].as_str().unwrap().to_owned();

    let me = app
        .call(Method::GET, "/api/auth/me", Some(&token), None)
        .await;
    assert_eq!(
        me.expect(StatusCode::OK),
        &json!({"code": 0, "msg": "success", "data": {"id": 1, "username": "ada", "email": "ada@example.com", "role": "user"}})
    );

    let refreshed = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh_token})),
        )
        .await;
    let data = &refreshed.expect(StatusCode::OK)["data"];
    assert_eq!(data["user"]["email"], "ada@example.com");
    assert_eq!(data["expires_in"], 259200);
    let new_token = data["token"].as_str().unwrap();
    app.call(Method::GET, "/api/auth/me", Some(new_token), None)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn wrong_credentials_are_401_in_the_envelope() {
    let app = app().await;
    register(&app, "ada@example.com", "password123").await;
    let (status, body) = login(&app, "ada@example.com", "wrong-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"code": 1, "msg": "invalid email or password", "data": null})
    );
    let (status, _) = login(&app, "nobody@example.com", "password123").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_and_bad_tokens_use_the_specs_error_shape() {
    let app = app().await;
    let reply = app.call(Method::GET, "/api/auth/me", None, None).await;
    assert_eq!(
        reply.expect(StatusCode::UNAUTHORIZED),
        &json!({"error": "Authorization header required"})
    );

    let reply = app
        .call(Method::GET, "/api/auth/me", Some("not.a.token"), None)
        .await;
    let error = reply.expect(StatusCode::UNAUTHORIZED)["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.starts_with("Invalid token: token is malformed"),
        "{error}"
    );

    let expired = app
        .state
        .tokens
        .issue(
            1,
            0,
            TokenKind::Access,
            chrono::Utc::now().timestamp() - 1000,
            10,
        )
        .unwrap();
    let reply = app
        .call(Method::GET, "/api/auth/me", Some(&expired), None)
        .await;
    assert_eq!(
        reply.expect(StatusCode::UNAUTHORIZED),
        &json!({"error": "Invalid token: token has expired"})
    );
}

#[tokio::test]
async fn access_and_refresh_tokens_are_not_interchangeable() {
    let app = app().await;
    let data = register(&app, "ada@example.com", "password123").await["data"].clone();
    let access = data["token"].as_str().unwrap();
    let refresh = data["refresh_token"].as_str().unwrap();

    let reply = app
        .call(Method::GET, "/api/auth/me", Some(refresh), None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": access})),
        )
        .await;
    let msg = reply.expect_error(StatusCode::UNAUTHORIZED);
    assert!(
        msg.contains("access token cannot be used as a refresh token"),
        "{msg}"
    );
}

#[tokio::test]
async fn token_lifetimes_match_the_contract() {
    let app = app().await;
    let data = register(&app, "ada@example.com", "password123").await["data"].clone();
    let claims = app
        .state
        .tokens
        .verify(data["token"].as_str().unwrap(), TokenKind::Access)
        .unwrap();
    assert_eq!(claims.exp - claims.iat, ACCESS_TTL_SECS);
    let claims = app
        .state
        .tokens
        .verify(data["refresh_token"].as_str().unwrap(), TokenKind::Refresh)
        .unwrap();
    assert_eq!(claims.exp - claims.iat, REFRESH_TTL_SECS);
}

#[tokio::test]
async fn a_password_change_revokes_every_earlier_token() {
    let app = app().await;
    let first = register(&app, "ada@example.com", "password123").await["data"].clone();
    let (_, second) = login(&app, "ada@example.com", "password123").await;
    let token = first["token"].as_str().unwrap();

    let reply = app
        .call(
            Method::PUT,
            "/api/auth/password",
            Some(token),
            Some(json!({"old_password": "password123", "new_password": "password1234"})),
        )
        .await;
    assert_eq!(
        reply.expect(StatusCode::OK),
        &json!({"code": 0, "msg": "success", "data": "密码修改成功"})
    );

    for old in [&first["token"], &second["data"]["token"]] {
        let reply = app
            .call(
                Method::GET,
                "/api/auth/me",
                Some(old.as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(
            reply.expect(StatusCode::UNAUTHORIZED),
            &json!({"error": "Invalid token: token has been revoked"})
        );
    }
    for old in [&first["refresh_token"], &second["data"]["refresh_token"]] {
        let reply = app
            .call(
                Method::POST,
                "/api/auth/refresh",
                None,
                Some(json!({"refresh_token": old})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    }

    let (status, _) = login(&app, "ada@example.com", "password123").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = login(&app, "ada@example.com", "password1234").await;
    assert_eq!(status, StatusCode::OK);
    app.call(
        Method::GET,
        "/api/auth/me",
        Some(body["data"]["token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(StatusCode::OK);
}

#[tokio::test]
async fn password_change_checks_old_and_new() {
    let app = app().await;
    let data = register(&app, "ada@example.com", "password123").await["data"].clone();
    let token = data["token"].as_str().unwrap();
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});

    let reply = app
        .call(
            Method::PUT,
            "/api/auth/password",
            Some(token),
            Some(change("nope-nope", "password1234")),
        )
        .await;
    assert_eq!(
        reply.expect_error(StatusCode::BAD_REQUEST),
        "old_password is incorrect"
    );
    let reply = app
        .call(
            Method::PUT,
            "/api/auth/password",
            Some(token),
            Some(change("password123", "short")),
        )
        .await;
    assert!(
        reply
            .expect_error(StatusCode::BAD_REQUEST)
            .starts_with("new_password must be 8 to 128")
    );
    // Nothing changed: the token still works.
    app.call(Method::GET, "/api/auth/me", Some(token), None)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn profile_changes_username_and_email_and_moves_the_guard() {
    let app = app().await;
    let ada = register(&app, "ada@example.com", "password123").await["data"].clone();
    register(&app, "bob@example.com", "password123").await;
    let token = ada["token"].as_str().unwrap();

    let reply = app
        .call(
            Method::PUT,
            "/api/auth/profile",
            Some(token),
            Some(json!({"username": "new_username", "email": "New_Email@Example.com"})),
        )
        .await;
    let mut data = reply.expect(StatusCode::OK)["data"].clone();
    // An e-mail change revokes earlier tokens and answers new ones for this session
    // (tests/sessions.rs covers that); the rest is the user, as before.
    let fields = data.as_object_mut().unwrap();
    let token = fields.remove("token").unwrap();
    let token = token.as_str().unwrap();
    assert!(fields.remove("refresh_token").is_some());
    assert_eq!(fields.remove("expires_in"), Some(json!(259200)));
    assert_eq!(
        data,
        json!({"id": 1, "username": "new_username", "email": "new_email@example.com", "role": "user"})
    );

    // The new address logs in; the old one is released for someone else.
    let (status, _) = login(&app, "new_email@example.com", "password123").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = login(&app, "ada@example.com", "password123").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    register(&app, "ada@example.com", "another-password").await;

    // Taking someone else's address is a conflict and changes nothing.
    let reply = app
        .call(
            Method::PUT,
            "/api/auth/profile",
            Some(token),
            Some(json!({"username": "x", "email": "BOB@example.com"})),
        )
        .await;
    assert_eq!(
        reply.expect_error(StatusCode::CONFLICT),
        "email is already registered"
    );
    let me = app
        .call(Method::GET, "/api/auth/me", Some(token), None)
        .await;
    assert_eq!(me.body["data"]["username"], "new_username");

    // Unknown fields (like a role) are refused, not ignored.
    let reply = app
        .call(
            Method::PUT,
            "/api/auth/profile",
            Some(token),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert!(
        reply
            .expect_error(StatusCode::BAD_REQUEST)
            .contains("unknown field `role`")
    );
    let reply = app
        .call(
            Method::PUT,
            "/api/auth/profile",
            Some(token),
            Some(json!({"email": "not-an-email"})),
        )
        .await;
    assert_eq!(
        reply.expect_error(StatusCode::BAD_REQUEST),
        "email is not a valid e-mail address"
    );
}

#[tokio::test]
async fn registration_validates_its_input() {
    let app = app().await;
    let cases = [
        (
            json!({"email": "bad", "password": "password123"}),
            "email is not a valid e-mail address",
        ),
        (
            json!({"email": "a@b.co", "password": "short"}),
            "password must be 8 to 128 characters long",
        ),
        (
            json!({"email": "a@b.co", "password": "p".repeat(129)}),
            "password must be 8 to 128 characters long",
        ),
        (
            json!({"password": "password123"}),
            "invalid request body: missing field `email`",
        ),
        (
            json!({"email": 5, "password": "password123"}),
            "invalid field `email`: invalid type: integer `5`, expected a string",
        ),
    ];
    for (body, expected) in cases {
        let reply = app
            .call(Method::POST, "/api/auth/register", None, Some(body.clone()))
            .await;
        let msg = reply.expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.starts_with(expected), "{body}: {msg}");
    }
    let reply = app
        .raw(
            Method::POST,
            "/api/auth/register",
            None,
            Some(b"{\"email\":".to_vec()),
        )
        .await;
    assert!(
        reply
            .expect_error(StatusCode::BAD_REQUEST)
            .starts_with("malformed JSON")
    );

    register(&app, "dup@example.com", "password123").await;
    let reply = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"email": "DUP@example.com", "password": "password123"})),
        )
        .await;
    assert_eq!(
        reply.expect_error(StatusCode::CONFLICT),
        "email is already registered"
    );
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_address_make_one_account() {
    let app = app().await;
    let attempts = (0..20).map(|i| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "/api/auth/register",
                None,
                // Differently cased: uniqueness is case-insensitive.
                Some(json!({"email": if i % 2 == 0 { "race@example.com" } else { "RACE@example.com" }, "password": "password123"})),
            )
            .await
            .status
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflicts), (1, 19), "{statuses:?}");
    let (status, _) = login(&app, "race@example.com", "password123").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_failed_logins_are_limited_until_the_window_passes() {
    // The limiter reads an injected clock: the window is stepped over, not slept through,
    // so a busy machine cannot make the test flake.
    let clock = ManualClock::starting_at(chrono::Utc::now());
    let window = Duration::from_secs(600);
    let app = TestApp::with_config_and_state(
        pingoo_auth::router,
        |config| {
            config.limits.login.max_attempts = 3;
            config.limits.login.window = window;
        },
        |state| state.with_clock(clock.clock()),
    )
    .await;
    register(&app, "ada@example.com", "password123").await;
    for _ in 0..3 {
        let (status, _) = login(&app, "ada@example.com", "guess-guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        clock.advance(chrono::Duration::seconds(10));
    }
    // Over the limit even the right password is refused, with a Retry-After of what is
    // left of the window (opened 30 s ago by the first failure).
    let refused = || async {
        app.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "ADA@example.com", "password": "password123"})),
        )
        .await
    };
    let reply = refused().await;
    let msg = reply.expect_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(msg.starts_with("too many failed logins"), "{msg}");
    assert_eq!(reply.headers["retry-after"], "570");
    // Another address is unaffected.
    register(&app, "bob@example.com", "password123").await;
    assert_eq!(
        login(&app, "bob@example.com", "password123").await.0,
        StatusCode::OK
    );

    // One second before the window ends it still holds; once it has passed, the right
    // password works again.
    clock.advance(chrono::Duration::seconds(569));
    let reply = refused().await;
    reply.expect_error(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.headers["retry-after"], "1");
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        login(&app, "ada@example.com", "password123").await.0,
        StatusCode::OK
    );
    // And a success resets the count: two more failures stay under the limit of three.
    for _ in 0..2 {
        assert_eq!(
            login(&app, "ada@example.com", "bad-guess!").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&app, "ada@example.com", "password123").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn parallel_guesses_cannot_exceed_the_limit() {
    let app = TestApp::with_config(pingoo_auth::router, |config| {
        config.limits.login.max_attempts = 5;
    })
    .await;
    register(&app, "ada@example.com", "password123").await;
    let guesses = (0..12).map(|i| {
        let app = &app;
        async move {
            login(app, "ada@example.com", &format!("guess-{i:04}"))
                .await
                .0
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, limited), (5, 7), "{statuses:?}");
}

#[tokio::test]
async fn health_unknown_routes_and_methods() {
    let app = app().await;
    for path in ["/api/health", "/health"] {
        let reply = app.call(Method::GET, path, None, None).await;
        assert_eq!(
            reply.expect(StatusCode::OK),
            &json!({"code": 0, "msg": "服务运行正常"})
        );
    }
    let reply = app.call(Method::GET, "/api/nope", None, None).await;
    assert_eq!(
        reply.expect_error(StatusCode::NOT_FOUND),
        "no route for /api/nope"
    );
    let reply = app
        .call(Method::DELETE, "/api/auth/login", None, None)
        .await;
    assert_eq!(
        reply.expect_error(StatusCode::METHOD_NOT_ALLOWED),
        "method DELETE is not allowed on this route"
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = app().await;
    let big = format!(
        "{{\"email\":\"a@b.co\",\"password\":\"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let reply = app
        .raw(
            Method::POST,
            "/api/auth/register",
            None,
            Some(big.into_bytes()),
        )
        .await;
    assert_eq!(
        reply.expect_error(StatusCode::PAYLOAD_TOO_LARGE),
        "request body is larger than 65536 bytes"
    );
}

#[tokio::test]
async fn closed_registration_refuses_new_accounts_and_says_so() {
    use pingoo::config::Registration;
    let open = TestApp::new(pingoo_auth::router).await;
    let reply = open.call(Method::GET, "/api/auth/config", None, None).await;
    assert_eq!(reply.expect(StatusCode::OK)["data"]["registration"], "open");

    let closed = TestApp::with_config(pingoo_auth::router, |c| {
        c.registration = Registration::Closed
    })
    .await;
    let reply = closed
        .call(Method::GET, "/api/auth/config", None, None)
        .await;
    assert_eq!(
        reply.expect(StatusCode::OK)["data"]["registration"],
        "closed"
    );
    let reply = closed
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"email": "new@example.com", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(
        reply.expect(StatusCode::FORBIDDEN),
        &json!({"code": 1, "msg": "registration is closed on this server", "data": null})
    );
    // Nobody was created.
    assert!(
        closed
            .state
            .db
            .find_user_by_email("new@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_public_config_names_the_beacon_url_only_when_there_is_one() {
    let same_origin = TestApp::new(pingoo_auth::router).await;
    let reply = same_origin
        .call(Method::GET, "/api/auth/config", None, None)
        .await;
    let data = &reply.expect(StatusCode::OK)["data"];
    assert!(data.get("beacon_url").is_none(), "{data}");

    let function_url = TestApp::with_config(pingoo_auth::router, |c| {
        c.beacon_url = Some("https://abc.lambda-url.us-east-1.on.aws/".into())
    })
    .await;
    let reply = function_url
        .call(Method::GET, "/api/auth/config", None, None)
        .await;
    assert_eq!(
        reply.expect(StatusCode::OK)["data"]["beacon_url"],
        "https://abc.lambda-url.us-east-1.on.aws/"
    );
}
