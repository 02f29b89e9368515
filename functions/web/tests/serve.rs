//! The dashboard's files: SPA fallback, caching, encodings, security headers, and the
//! API's envelope 404 for unknown `/api/*` paths. No table is read.

use std::io::Read;

mod support;

use axum::http::{Method, StatusCode, header};
use support::get;

fn index_html() -> &'static [u8] {
    pingoo_web::asset("/index.html").expect("index.html").raw
}

fn a_script() -> &'static str {
    pingoo_web::FILES
        .iter()
        .find(|a| a.path.starts_with("/assets/") && a.path.ends_with(".js"))
        .expect("a built script")
        .path
}

#[tokio::test]
async fn client_routes_get_index_html_uncached_with_a_strict_csp() {
    for path in [
        "/",
        "/login",
        "/sites/12",
        "/sites/12/settings",
        "/account",
        "/nope",
    ] {
        let reply = get(Method::GET, path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.body, index_html(), "{path}");
        assert_eq!(reply.header(header::CACHE_CONTROL), "no-cache", "{path}");
        assert!(reply.header(header::CONTENT_TYPE).starts_with("text/html"));
        let csp = reply.header(header::CONTENT_SECURITY_POLICY);
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(reply.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(
            reply.header(header::REFERRER_POLICY),
            "strict-origin-when-cross-origin"
        );
        assert_eq!(reply.header(header::X_FRAME_OPTIONS), "DENY");
    }
}

#[tokio::test]
async fn the_share_view_may_be_framed() {
    let reply = get(Method::GET, "/share/abcDEF_123-x?embed=1", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, index_html());
    let csp = reply.header(header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(reply.headers.get(header::X_FRAME_OPTIONS).is_none());
}

#[tokio::test]
async fn the_built_index_has_no_inline_script_or_style() {
    let html = String::from_utf8_lossy(index_html()).to_string();
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or("");
        assert!(open.contains("src="), "inline script in index.html: {tag}");
    }
    assert!(!html.contains("<style"), "inline style in index.html");
    assert!(!html.contains("style="), "style attribute in index.html");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "another host in index.html"
    );
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_precompressed() {
    let path = a_script();
    let raw = get(Method::GET, path, None).await;
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(
        raw.header(header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert!(
        raw.header(header::CONTENT_TYPE)
            .starts_with("text/javascript")
    );
    assert!(raw.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(raw.header(header::VARY), "Accept-Encoding");
    assert_eq!(raw.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");

    let gz = get(Method::GET, path, Some("gzip, deflate")).await;
    assert_eq!(gz.header(header::CONTENT_ENCODING), "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut unzipped)
        .expect("gzip");
    assert_eq!(unzipped, raw.body);
    assert!(gz.body.len() < raw.body.len());

    let br = get(Method::GET, path, Some("gzip, deflate, br, zstd")).await;
    assert_eq!(br.header(header::CONTENT_ENCODING), "br");
    let mut unbrotli = Vec::new();
    brotli::Decompressor::new(&br.body[..], 4096)
        .read_to_end(&mut unbrotli)
        .expect("brotli");
    assert_eq!(unbrotli, raw.body);

    // q=0 refuses a coding.
    let refused = get(Method::GET, path, Some("br;q=0, gzip;q=0.5")).await;
    assert_eq!(refused.header(header::CONTENT_ENCODING), "gzip");
    let identity = get(Method::GET, path, Some("identity")).await;
    assert!(identity.headers.get(header::CONTENT_ENCODING).is_none());

    let index = get(Method::GET, "/sites/1", Some("br")).await;
    assert_eq!(index.header(header::CONTENT_ENCODING), "br");
}

#[tokio::test]
async fn an_unknown_asset_is_a_plain_404_not_the_app() {
    let reply = get(Method::GET, "/assets/index-nothere.js", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_ne!(reply.body, index_html());
    assert_eq!(reply.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
}

#[tokio::test]
async fn unknown_api_paths_keep_the_json_envelope_404() {
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::GET, "/api"),
        (Method::POST, "/api/sites/1/whatever"),
        (Method::DELETE, "/login"),
    ] {
        let reply = get(method.clone(), path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(body["code"], 1, "{path}");
        assert_eq!(body["data"], serde_json::Value::Null, "{path}");
        assert!(
            body["msg"].as_str().unwrap_or("").contains("no route"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn other_built_files_are_served_with_a_short_cache() {
    let reply = get(Method::GET, "/favicon.svg", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_TYPE), "image/svg+xml");
    assert_eq!(reply.header(header::CACHE_CONTROL), "public, max-age=3600");
}
