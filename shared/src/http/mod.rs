//! HTTP plumbing shared by every function: extractors, the common layers, the Lambda entry.

pub mod extract;
pub mod request_log;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::config::TokenKey;
use crate::error::ApiError;
use crate::state::AppState;

/// Largest JSON body the API accepts.
pub const BODY_LIMIT: usize = 64 * 1024;

/// `GET /api/health` and `GET /health`, with their description.
pub fn health_routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(health))
        .routes(utoipa_axum::routes!(health_api))
}

/// `{"code": 0, "msg": "服务运行正常"}`: the health answer has no `data`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Health {
    code: i32,
    msg: String,
}

#[utoipa::path(get, operation_id = "health", path = "/health", tag = "meta", summary = "Health check",
    responses((status = 200, description = "The service answers.", body = Health)))]
async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "code": 0, "msg": "服务运行正常" }))
}

#[utoipa::path(get, operation_id = "health_api", path = "/api/health", tag = "meta", summary = "Health check",
    responses((status = 200, description = "The service answers.", body = Health)))]
async fn health_api() -> axum::Json<serde_json::Value> {
    health().await
}

/// Turns a function's routes into the service Lambda (or the local runner) runs: envelope
/// answers for unknown routes and methods, the body limit, panic safety, request logs.
pub fn service(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(request_log::LogResponse),
        )
        .with_state(state)
}

/// The span every request's log lines carry: method, path (never the query string, which
/// may hold tokens), and the site once a handler knows it ([`record_site`]). On Lambda the
/// runtime's own span adds the request id; no header or address is ever recorded.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        site_id = tracing::field::Empty,
    )
}

/// Adds the site a request is about to its log lines.
pub fn record_site(site_id: u64) {
    tracing::Span::current().record("site_id", site_id);
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

fn on_panic(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::Internal("handler panicked".into()).into_response()
}

/// The whole `main` of an HTTP function: logging, configuration, clients, then the
/// Lambda runtime loop. A configuration error stops the container with a clear log line.
/// `token_key` says whether the function uses tokens (and so needs `JWT_SECRET`).
pub async fn run_lambda<F, Fut>(token_key: TokenKey, build: F) -> Result<(), lambda_http::Error>
where
    F: FnOnce(AppState) -> Fut,
    Fut: Future<Output = Router>,
{
    let mode = crate::telemetry::mode_from_env();
    crate::telemetry::init(mode);
    let state = match AppState::from_env_with(token_key).await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(error = %err, "refusing to start: bad configuration");
            std::process::exit(1);
        }
    };
    let router = build(state).await;
    lambda_http::run(router).await
}
