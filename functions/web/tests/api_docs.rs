//! The API reference at `/api/docs`: its page and files come from the embedded `dist/`
//! (Swagger UI from npm, copied by the Vite build), under the dashboard's strict CSP, with
//! nothing from another host; other paths under it keep the API's envelope 404.

mod support;

use axum::http::{Method, StatusCode, header};
use support::{Reply, get};

/// The dashboard's CSP: every source is this origin (or `data:` images), no inline or
/// evaluated script, no framing.
fn assert_strict_headers(reply: &Reply, what: &str) {
    let csp = reply.header(header::CONTENT_SECURITY_POLICY);
    assert_eq!(csp, pingoo_web::CSP, "{what}");
    for directive in csp.split(';') {
        let mut parts = directive.split_whitespace();
        let name = parts.next().unwrap_or("");
        for source in parts {
            assert!(
                ["'self'", "'none'"].contains(&source) || (name == "img-src" && source == "data:"),
                "{what}: {name} allows {source}"
            );
        }
    }
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(
        reply.header(header::X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "{what}"
    );
    assert_eq!(reply.header(header::X_FRAME_OPTIONS), "DENY", "{what}");
}

/// `attr="…"` values in `html` that start with `prefix`.
fn attrs<'a>(html: &'a str, attr: &str, prefix: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.split(needle.as_str())
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|v| v.starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn the_reference_page_is_html_under_the_strict_csp() {
    let page = pingoo_web::asset("/api/docs/index.html").expect("dist/api/docs/index.html");
    for path in ["/api/docs", "/api/docs/", "/api/docs/index.html"] {
        let reply = get(Method::GET, path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(reply.body, page.raw, "{path}");
        assert_eq!(reply.header(header::CACHE_CONTROL), "no-cache", "{path}");
        assert_strict_headers(&reply, path);
    }
    let head = get(Method::HEAD, "/api/docs", None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.header(header::CONTENT_TYPE).starts_with("text/html"));
}

#[tokio::test]
async fn the_reference_page_has_no_inline_script_style_or_other_host() {
    let html =
        String::from_utf8_lossy(pingoo_web::asset("/api/docs/index.html").expect("page").raw)
            .into_owned();
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or("");
        assert!(open.contains("src="), "inline script: {tag}");
    }
    assert!(!html.contains("<style"), "inline style");
    assert!(!html.contains("style="), "style attribute");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "another host in the page"
    );
    assert!(html.contains("href=\"/api/openapi.json\""), "{html}");
}

#[tokio::test]
async fn the_reference_files_are_served_with_their_types_and_cached_for_good() {
    let html =
        String::from_utf8_lossy(pingoo_web::asset("/api/docs/index.html").expect("page").raw)
            .into_owned();
    let scripts = attrs(&html, "src", "/api/docs/assets/");
    let styles = attrs(&html, "href", "/api/docs/assets/");
    assert_eq!(scripts.len(), 1, "the initializer: {html}");
    assert_eq!(styles.len(), 1, "the stylesheet: {html}");

    let init = get(Method::GET, scripts[0], None).await;
    assert_eq!(init.status, StatusCode::OK, "{}", scripts[0]);
    assert_eq!(
        init.header(header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    // The initializer reads the document from this origin and loads Swagger UI's bundle
    // from here, without the online validator.
    let init_js = init.text();
    assert!(init_js.contains("\"/api/openapi.json\""), "{init_js}");
    assert!(init_js.contains("validatorUrl:null"), "{init_js}");
    assert!(!init_js.contains("http"), "{init_js}");
    let bundle = init_js
        .split('"')
        .find(|s| s.starts_with("/api/docs/assets/swagger-ui-bundle-") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("no bundle path in the initializer: {init_js}"))
        .to_owned();

    let css = get(Method::GET, styles[0], None).await;
    assert_eq!(css.status, StatusCode::OK, "{}", styles[0]);
    assert_eq!(css.header(header::CONTENT_TYPE), "text/css; charset=utf-8");
    assert!(css.text().contains(".swagger-ui"), "Swagger UI's styles");
    assert!(!css.text().contains("@import"), "no imported stylesheet");

    let ui = get(Method::GET, &bundle, None).await;
    assert_eq!(ui.status, StatusCode::OK, "{bundle}");
    assert_eq!(
        ui.header(header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert!(ui.text().contains("SwaggerUIBundle"), "{bundle}");

    for (path, reply) in [
        (scripts[0], &init),
        (styles[0], &css),
        (bundle.as_str(), &ui),
    ] {
        assert_eq!(
            reply.header(header::CACHE_CONTROL),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_strict_headers(reply, path);
    }
}

/// Swagger UI is Apache-2.0: its license, notice and the bundle's third-party licenses
/// are served beside it.
#[tokio::test]
async fn swagger_uis_licenses_are_served_beside_it() {
    let reply = get(
        Method::GET,
        "/api/docs/assets/swagger-ui-LICENSES.txt",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    let text = reply.text();
    for part in [
        "Apache License",
        "swagger-ui-dist/NOTICE",
        "swagger-ui-bundle.js.LICENSE.txt",
    ] {
        assert!(text.contains(part), "{part}");
    }
}

#[tokio::test]
async fn other_paths_under_the_reference_keep_the_envelope_404() {
    for (method, path) in [
        (Method::GET, "/api/docs/nope"),
        (Method::GET, "/api/docs/assets/nope.js"),
        (Method::GET, "/api/docsx"),
        (Method::POST, "/api/docs"),
    ] {
        let reply = get(method.clone(), path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(body["code"], 1, "{path}");
        assert!(
            body["msg"].as_str().unwrap_or("").contains("no route"),
            "{body}"
        );
    }
}
