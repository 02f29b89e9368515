//! Integration-test fixtures: each test gets its own tables on the DynamoDB Local that
//! `scripts/test` started, and drives a real router in-process with `tower::oneshot`.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use pingoo::AppState;
use pingoo::config::{Config, Tables};
use serde_json::Value;
use tower::ServiceExt;

/// The DynamoDB Local endpoint `scripts/test` exported.
pub fn dynamodb_endpoint() -> String {
    std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "DYNAMODB_ENDPOINT is not set: integration tests need DynamoDB Local. \
             Run them with `scripts/test` (it starts the stand-ins on free ports)."
        )
    })
}

/// A fresh, unique table prefix, e.g. `t4242-7-k3J9xQ-`.
pub fn unique_prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut random = [0u8; 4];
    pingoo::ids::fill_random(&mut random);
    format!(
        "t{}-{n}-{:08x}-",
        std::process::id(),
        u32::from_le_bytes(random)
    )
}

/// A local configuration with freshly created tables.
pub async fn config() -> (Config, aws_sdk_dynamodb::Client) {
    let config = Config::for_tests(Tables::with_prefix(&unique_prefix()), dynamodb_endpoint());
    let sdk = pingoo::aws::sdk_config(&config).await;
    let client = pingoo::aws::dynamodb(&sdk, &config);
    crate::bootstrap::ensure_tables(&client, &config.tables)
        .await
        .unwrap_or_else(|e| panic!("creating test tables: {e}"));
    (config, client)
}

/// One app under test: its state and the router a Lambda would run.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
}

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl TestApp {
    /// Fresh tables and the router built by `build` (e.g. `pingoo_auth::router`).
    pub async fn new(build: impl FnOnce(AppState) -> Router) -> TestApp {
        TestApp::with_config(build, |_| {}).await
    }

    /// Like [`TestApp::new`], with a chance to adjust the configuration first.
    pub async fn with_config(
        build: impl FnOnce(AppState) -> Router,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        TestApp::with_config_and_state(build, adjust, |state| state).await
    }

    /// Like [`TestApp::with_config`], with a chance to adjust the state too (e.g. to give
    /// it a [`pingoo::clock::ManualClock`]).
    pub async fn with_config_and_state(
        build: impl FnOnce(AppState) -> Router,
        adjust: impl FnOnce(&mut Config),
        adjust_state: impl FnOnce(AppState) -> AppState,
    ) -> TestApp {
        let (mut config, client) = config().await;
        adjust(&mut config);
        let state = adjust_state(AppState::new(config, client).with_geo(test_geoip("en")));
        TestApp {
            router: build(state.clone()),
            state,
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let body = body.map(|b| b.to_string());
        self.raw(method, path, token, body.map(String::into_bytes))
            .await
    }

    /// Like [`TestApp::call`], as a visitor at `ip` with a `User-Agent` and extra headers.
    pub async fn call_as(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        visitor: &Visitor<'_>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(agent) = visitor.user_agent {
            request = request.header(header::USER_AGENT, agent);
        }
        for (name, value) in visitor.headers {
            request = request.header(*name, *value);
        }
        let mut request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("a valid test request");
        if let Some(ip) = visitor.ip {
            let addr = std::net::SocketAddr::new(ip.parse().expect("a test IP"), 50_000);
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
        }
        self.send(request).await
    }

    /// Sends a request as API Gateway's HTTP API delivers it to the Lambda (payload format
    /// 2.0, decoded by `lambda_http` as in production): the caller's address is
    /// `requestContext.http.sourceIp`, and `headers` go in as sent (a forged
    /// `X-Forwarded-For`, say).
    pub async fn call_via_api_gateway(
        &self,
        method: Method,
        path: &str,
        source_ip: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut header_map = serde_json::Map::new();
        header_map.insert("content-type".into(), "application/json".into());
        for (name, value) in headers {
            header_map.insert(name.to_ascii_lowercase(), (*value).into());
        }
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": "",
            "headers": header_map,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "testapi",
                "domainName": "testapi.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "testapi",
                "http": {
                    "method": method.as_str(),
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": "pingoo-test"
                },
                "requestId": "test-request",
                "routeKey": "$default",
                "stage": "$default",
                "time": "02/Dec/2026:18:00:00 +0000",
                "timeEpoch": 1_796_234_400_000_i64
            },
            "body": body.map(|b| b.to_string()),
            "isBase64Encoded": false
        });
        self.call_lambda_event(&event.to_string()).await
    }

    /// Sends a Lambda invocation payload of any HTTP kind (API Gateway, Function URL) as
    /// the runtime would: decoded by `lambda_http`, then routed.
    pub async fn call_lambda_event(&self, payload: &str) -> Reply {
        let request =
            lambda_http::request::from_str(payload).expect("an HTTP event lambda_http decodes");
        let (parts, body) = request.into_parts();
        self.send(Request::from_parts(parts, Body::from(body.to_vec())))
            .await
    }

    /// Sends raw bytes as the body (for malformed-input tests).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("a valid test request");
        self.send(request).await
    }

    /// Sends a fully built request.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("routers are infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a readable body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Creates a site for `token`'s user through the API's service layer; returns it.
    pub async fn site(&self, token: &str, domain: &str) -> pingoo::model::Site {
        self.site_in(token, domain, None).await
    }

    /// Like [`TestApp::site`], in an IANA time zone (`None`: the default, UTC).
    pub async fn site_in(
        &self,
        token: &str,
        domain: &str,
        timezone: Option<&str>,
    ) -> pingoo::model::Site {
        let claims = self
            .state
            .tokens
            .verify(token, pingoo::auth::token::TokenKind::Access)
            .expect("a valid test token");
        let user = self
            .state
            .db
            .get_user(claims.user_id().expect("a numeric subject"))
            .await
            .expect("DynamoDB answers")
            .expect("the user exists");
        pingoo::sites::service::create(
            &self.state,
            &user,
            pingoo::sites::service::CreateSite {
                name: format!("site on {domain}"),
                domain: domain.to_owned(),
                timezone: timezone.map(str::to_owned),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("creating a site on {domain}: {e}"))
    }

    /// Registers a user through the service layer; returns `(access token, user id)`.
    pub async fn user(&self, email: &str) -> (String, u64) {
        let response = pingoo::auth::service::register(
            &self.state,
            pingoo::auth::service::RegisterRequest {
                email: email.to_owned(),
                password: "password123".to_owned(),
                username: None,
            },
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("registering {email}: {e}"));
        (response.token, response.user.id)
    }
}

/// Who a test request comes from.
#[derive(Debug, Default, Clone)]
pub struct Visitor<'a> {
    /// The TCP peer (what API Gateway reports as `sourceIp`).
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub headers: &'a [(&'a str, &'a str)],
}

/// The MaxMind test databases (City + ASN) in `shared/testdata/geoip`, names in `lang`.
pub fn test_geoip(lang: &str) -> pingoo::enrich::geo::GeoIp {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata/geoip");
    let read = |name: &str| {
        std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("reading {name}: {e}"))
    };
    pingoo::enrich::geo::GeoIp::from_bytes(
        read("GeoLite2-City-Test.mmdb"),
        Some(read("GeoLite2-ASN-Test.mmdb")),
        lang,
    )
    .unwrap_or_else(|e| panic!("opening the test GeoIP databases: {e}"))
}

impl Reply {
    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        &self.body
    }

    /// Asserts an envelope error with `status` and returns its message.
    #[track_caller]
    pub fn expect_error(&self, status: StatusCode) -> String {
        let body = self.expect(status);
        assert_eq!(body["code"], 1, "not an error envelope: {body}");
        assert!(body["data"].is_null(), "error with data: {body}");
        body["msg"].as_str().unwrap_or_default().to_owned()
    }
}
