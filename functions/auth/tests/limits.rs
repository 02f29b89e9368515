//! Attempt limits per client network: login (per e-mail and network, plus a per-e-mail
//! ceiling), registration and password changes. Requests arrive as API Gateway delivers
//! them, so the network is `requestContext.http.sourceIp`.

use axum::http::{Method, StatusCode};
use pingoo::config::AttemptLimit;
use pingoo_stack::testkit::{Reply, TestApp};
use serde_json::{Value, json};

const ATTACKER: &str = "203.0.113.77";
const ATTACKER_NEIGHBOUR: &str = "203.0.113.200";
const VICTIM: &str = "81.2.69.142";

fn limit(max_attempts: u32) -> AttemptLimit {
    AttemptLimit {
        max_attempts,
        window: std::time::Duration::from_secs(3600),
    }
}

async fn post(app: &TestApp, path: &str, from: &str, body: Value) -> Reply {
    app.call_via_api_gateway(Method::POST, path, from, &[], Some(body))
        .await
}

async fn login(app: &TestApp, from: &str, password: &str) -> Reply {
    let body = json!({"email": "ada@example.com", "password": password});
    post(app, "/api/auth/login", from, body).await
}

async fn ada(app: &TestApp) -> String {
    let body = json!({"email": "ada@example.com", "password": "password123"});
    let reply = post(app, "/api/auth/register", VICTIM, body).await;
    reply.expect(StatusCode::OK)["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_guesser_locks_out_only_their_own_network() {
    let app = TestApp::with_config(pingoo_auth::router, |config| {
        config.limits.login = limit(3);
    })
    .await;
    ada(&app).await;
    for _ in 0..3 {
        login(&app, ATTACKER, "guess-guess")
            .await
            .expect_error(StatusCode::UNAUTHORIZED);
    }
    // The attacker's /24 is refused, even with the right password and even when it claims
    // through X-Forwarded-For to be the victim.
    let reply = login(&app, ATTACKER_NEIGHBOUR, "password123").await;
    let msg = reply.expect_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(
        msg.starts_with("too many failed logins; try again in"),
        "{msg}"
    );
    assert!(reply.headers.contains_key("retry-after"));
    let forged = app
        .call_via_api_gateway(
            Method::POST,
            "/api/auth/login",
            ATTACKER,
            &[("X-Forwarded-For", VICTIM)],
            Some(json!({"email": "ada@example.com", "password": "password123"})),
        )
        .await;
    forged.expect_error(StatusCode::TOO_MANY_REQUESTS);

    // The victim, on their own network, signs in.
    let reply = login(&app, VICTIM, "password123").await;
    assert_eq!(
        reply.expect(StatusCode::OK)["data"]["user"]["email"],
        "ada@example.com"
    );
}

#[tokio::test]
async fn guesses_spread_over_networks_meet_the_per_email_ceiling() {
    let app = TestApp::with_config(pingoo_auth::router, |config| {
        config.limits.login = limit(10);
        config.limits.login_per_email = limit(4);
    })
    .await;
    ada(&app).await;
    // A success gives its own try back: it never uses up the ceiling.
    for _ in 0..5 {
        login(&app, VICTIM, "password123")
            .await
            .expect(StatusCode::OK);
    }
    for network in 1..=4 {
        let from = format!("198.51.{network}.9");
        login(&app, &from, "guess-guess")
            .await
            .expect_error(StatusCode::UNAUTHORIZED);
    }
    // Four networks, one failure each: the e-mail is at its ceiling everywhere.
    login(&app, "198.51.99.9", "guess-guess")
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS);
    login(&app, VICTIM, "password123")
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS);
    // Other addresses are not affected.
    let body = json!({"email": "bob@example.com", "password": "password123"});
    post(&app, "/api/auth/register", VICTIM, body.clone())
        .await
        .expect(StatusCode::OK);
    post(&app, "/api/auth/login", "198.51.99.9", body)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn registrations_are_limited_per_network() {
    let app = TestApp::with_config(pingoo_auth::router, |config| {
        config.limits.register = limit(3);
    })
    .await;
    let register = |n: u32, from: &'static str| {
        let app = &app;
        async move {
            let body = json!({"email": format!("user{n}@example.com"), "password": "password123"});
            post(app, "/api/auth/register", from, body).await
        }
    };
    for n in 0..2 {
        register(n, ATTACKER).await.expect(StatusCode::OK);
    }
    // A taken address counts too: it cost a check and probed an address.
    register(0, ATTACKER_NEIGHBOUR)
        .await
        .expect_error(StatusCode::CONFLICT);
    let reply = register(3, ATTACKER).await;
    let msg = reply.expect_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(
        msg.starts_with("too many registrations from this network; try again in"),
        "{msg}"
    );
    let retry: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // A malformed request is answered as such and does not count.
    let bad = post(
        &app,
        "/api/auth/register",
        VICTIM,
        json!({"email": "x", "password": "password123"}),
    )
    .await;
    bad.expect_error(StatusCode::BAD_REQUEST);
    register(4, VICTIM).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn wrong_old_passwords_are_limited_per_user_and_network() {
    let app = TestApp::with_config(pingoo_auth::router, |config| {
        config.limits.password = limit(2);
    })
    .await;
    let token = ada(&app).await;
    let change = |from: &'static str, old: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let body = json!({"old_password": old, "new_password": "a-new-password"});
            app.call_via_api_gateway(
                Method::PUT,
                "/api/auth/password",
                from,
                &[("Authorization", &format!("Bearer {token}"))],
                Some(body),
            )
            .await
        }
    };
    for _ in 0..2 {
        let msg = change(ATTACKER, "guess-guess")
            .await
            .expect_error(StatusCode::BAD_REQUEST);
        assert_eq!(msg, "old_password is incorrect");
    }
    let reply = change(ATTACKER, "password123").await;
    let msg = reply.expect_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(msg.starts_with("too many wrong passwords"), "{msg}");
    assert!(reply.headers.contains_key("retry-after"));
    // From the owner's own network the right password still works.
    change(VICTIM, "password123").await.expect(StatusCode::OK);
    login(&app, VICTIM, "a-new-password")
        .await
        .expect(StatusCode::OK);
}
