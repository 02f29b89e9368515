//! The public side: the beacon endpoints and the tracker script. No token.
//!
//! | route | handler |
//! |---|---|
//! | `POST /send`, `POST /api/send`, `POST /api/collect` (and `OPTIONS`) | [`beacon`], [`preflight`] |
//! | `GET /pingoo.js`, `GET /api/pingoo.js` | [`tracker`] |

use std::io::Write;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pingoo::collect::BODY_LIMIT;
use pingoo::http::extract::{ClientInfo, read_body};
use pingoo::openapi::ErrorEnvelope;
use pingoo::{ApiError, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The tracker, minified (`infra/tracker/build.sh` makes it from `assets/pingoo.js`).
pub const TRACKER_JS: &str = include_str!("../assets/pingoo.min.js");

static TRACKER_GZIP: LazyLock<Vec<u8>> = LazyLock::new(|| gzip(TRACKER_JS.as_bytes()));

/// gzip at the best level.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// The routes, without fallbacks or the common layers, so the local runner can merge
/// them. `log_sample`: one success in this many is logged (`BEACON_LOG_SAMPLE`); errors
/// and rejections always are.
pub fn routes(log_sample: u32) -> Router<AppState> {
    pingoo::http::request_log::sample_successes(api().split_for_parts().0, log_sample)
}

/// The routes with their OpenAPI description (each path is its handler's
/// `#[utoipa::path]`; the three beacon paths and two tracker paths are one handler each).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(beacon_send, preflight_send))
        .routes(routes!(beacon_api_send, preflight_api_send))
        .routes(routes!(beacon_api_collect, preflight_api_collect))
        .routes(routes!(tracker_root))
        .routes(routes!(tracker_api))
}

/// This function's part of the OpenAPI description.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// One described operation per beacon path, all answered by [`beacon`] and [`preflight`].
macro_rules! beacon_paths {
    ($($path:literal => $send:ident, $options:ident;)*) => {$(
        #[utoipa::path(post, operation_id = stringify!($send), path = $path, tag = "beacon", summary = "Record a page view or event from a page (the tracker's beacon)",
            description = "No token: the site is named by `tracking_id` or `site_id`, and the page (its `Origin`, else `Referer`) must be on the site's domain. The body is JSON, sent as `application/json` or as `text/plain` (navigator.sendBeacon); at most 8 KiB. Lenient on types: `site_id` may be a string. CORS: any origin.",
            request_body(content((pingoo::collect::Beacon = "application/json"), (pingoo::collect::Beacon = "text/plain"))),
            responses((status = 204, description = "Stored (or, for a bot or an excluded visitor, accepted and dropped)."),
                (status = 403, description = "The page is not on the site's domain, or no Origin or Referer was sent.", body = ErrorEnvelope)))]
        async fn $send(state: State<AppState>, client: ClientInfo, request: Request) -> Response {
            beacon(state, client, request).await
        }

        #[utoipa::path(options, operation_id = stringify!($options), path = $path, tag = "beacon", summary = "CORS preflight of the beacon",
            responses((status = 204, description = "Any origin may POST with `Content-Type`.")))]
        async fn $options() -> Response {
            preflight().await
        }
    )*};
}

beacon_paths! {
    "/send" => beacon_send, preflight_send;
    "/api/send" => beacon_api_send, preflight_api_send;
    "/api/collect" => beacon_api_collect, preflight_api_collect;
}

#[utoipa::path(get, operation_id = "tracker_script", path = "/pingoo.js", tag = "beacon", summary = "The tracker script",
    description = "Gzipped when the client accepts it; cached for a day.",
    responses((status = 200, description = "The script.", content_type = "application/javascript", body = String)))]
async fn tracker_root(headers: HeaderMap) -> Result<Response, ApiError> {
    tracker(headers).await
}

#[utoipa::path(get, operation_id = "tracker_script_api", path = "/api/pingoo.js", tag = "beacon", summary = "The tracker script",
    description = "Gzipped when the client accepts it; cached for a day.",
    responses((status = 200, description = "The script.", content_type = "application/javascript", body = String)))]
async fn tracker_api(headers: HeaderMap) -> Result<Response, ApiError> {
    tracker(headers).await
}

/// What the Lambda runs.
pub fn router(state: AppState) -> Router {
    pingoo::http::service(routes(state.config.beacon_log_sample), state)
}

fn cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

/// A beacon: 204 when stored; envelope errors (with CORS headers, so a page's script can
/// read them) otherwise.
async fn beacon(State(state): State<AppState>, client: ClientInfo, request: Request) -> Response {
    let result = async {
        let body = read_body(request, BODY_LIMIT).await?;
        pingoo::collect::collect(&state, &body, client).await
    }
    .await;
    cors(match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => err.into_response(),
    })
}

async fn preflight() -> Response {
    cors(StatusCode::NO_CONTENT.into_response())
}

/// The tracker script, gzipped when the client accepts it, cached for a day.
async fn tracker(headers: HeaderMap) -> Result<Response, ApiError> {
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = if gzip_ok {
        let mut r = TRACKER_GZIP.clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        TRACKER_JS.into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(response)
}
