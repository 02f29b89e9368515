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
use axum::routing::{get, post};
use pingoo::collect::BODY_LIMIT;
use pingoo::http::extract::{ClientInfo, read_body};
use pingoo::{ApiError, AppState};

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
    let send = || post(beacon).options(preflight);
    let routes = Router::new()
        .route("/send", send())
        .route("/api/send", send())
        .route("/api/collect", send())
        .route("/pingoo.js", get(tracker))
        .route("/api/pingoo.js", get(tracker));
    pingoo::http::request_log::sample_successes(routes, log_sample)
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
