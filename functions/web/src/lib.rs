//! The dashboard: the single-page app built from `app/` (Vite, committed in `dist/`),
//! embedded at compile time with gzip and brotli forms made by `build.rs`.
//!
//! | path | answer |
//! |---|---|
//! | `/assets/*` (content-hashed names) | the file, `public, max-age=31536000, immutable` |
//! | other files in `dist/` (`/favicon.svg`, …) | the file, cached for an hour |
//! | `/api/docs`, `/api/docs/` | the API reference page (Swagger UI over `/api/openapi.json`), `no-cache` |
//! | `/api/docs/assets/*` (content-hashed names) | the reference's files, immutable like `/assets/*` |
//! | `/api`, other `/api/*` not routed by another function | the JSON envelope 404 |
//! | any other path (`/`, `/login`, `/sites/12`, `/share/<token>`, …) | `index.html`, `no-cache` |
//!
//! Every answer carries a strict Content-Security-Policy (nothing from another host, no
//! inline script), `nosniff` and a referrer policy; only `/share/*` may be framed.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use pingoo::{ApiError, AppState};

/// One embedded file of the built app.
pub struct Asset {
    /// URL path, e.g. `/assets/index-3f2a1b.js`.
    pub path: &'static str,
    pub mime: &'static str,
    pub raw: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The CSP of every page but the share view.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'none'";
/// The share view is meant to be embedded in the site owner's pages.
pub const CSP_SHARE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors *";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The embedded file at `path`, if any.
pub fn asset(path: &str) -> Option<&'static Asset> {
    FILES.iter().find(|a| a.path == path)
}

/// The routes, without fallbacks or layers, so the local runner can merge them with the
/// API's: the API's own routes are more specific and win.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/{*path}", any(page))
}

/// What the Lambda runs.
pub fn router(state: AppState) -> Router {
    pingoo::http::service(routes(), state)
}

/// Which encoding the client takes, best first: brotli, then gzip (`q=0` refuses).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            if !(name.eq_ignore_ascii_case(coding) || name == "*") {
                return false;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            q > 0.0
        })
}

fn security_headers(headers: &mut HeaderMap, share: bool) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if share { CSP_SHARE } else { CSP }),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if !share {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

fn serve(asset: &'static Asset, request: &HeaderMap, cache: &'static str, share: bool) -> Response {
    let (body, encoding): (&'static [u8], Option<&'static str>) = match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepts(request, "br") => (br, Some("br")),
        (_, Some(gz)) if accepts(request, "gzip") => (gz, Some("gzip")),
        _ => (asset.raw, None),
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    security_headers(headers, share);
    response
}

fn plain_not_found() -> Response {
    let mut response = (StatusCode::NOT_FOUND, "not found\n").into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    security_headers(headers, false);
    response
}

/// The API reference's page; its files are under `/api/docs/assets/`.
pub const DOCS: &str = "/api/docs";

/// `/api/docs` and what is under it: the page, its hashed files, else the API's 404 (an
/// `/api/*` path, so the envelope, not the dashboard's page).
fn docs(path: &str, headers: &HeaderMap) -> Response {
    let found = match path.strip_prefix(DOCS).unwrap_or(path) {
        "" | "/" | "/index.html" => asset("/api/docs/index.html").map(|a| (a, "no-cache")),
        rest if rest.starts_with("/assets/") => asset(path).map(|a| (a, IMMUTABLE)),
        _ => None,
    };
    match found {
        Some((found, cache)) => serve(found, headers, cache, false),
        None => ApiError::NotFound(format!("no route for {path}")).into_response(),
    }
}

async fn page(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if method != Method::GET && method != Method::HEAD {
        return ApiError::NotFound(format!("no route for {path}")).into_response();
    }
    if path == DOCS || path.starts_with("/api/docs/") {
        return docs(path, &headers);
    }
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::NotFound(format!("no route for {path}")).into_response();
    }
    if path.starts_with("/assets/") {
        return match asset(path) {
            Some(found) => serve(found, &headers, IMMUTABLE, false),
            None => plain_not_found(),
        };
    }
    if path != "/index.html"
        && let Some(found) = asset(path)
    {
        return serve(found, &headers, "public, max-age=3600", false);
    }
    match asset("/index.html") {
        Some(index) => serve(index, &headers, "no-cache", path.starts_with("/share/")),
        None => plain_not_found(),
    }
}
