//! What the API's OpenAPI description shares: the envelope's error bodies, the security
//! schemes, and the error answers every operation can give.
//!
//! Each function crate describes its own operations next to its handlers
//! (`#[utoipa::path]`, routed through `utoipa_axum`, so a route cannot exist without its
//! description); [`document`] joins them. `infra/local` builds the whole document, which
//! is committed as `docs/openapi.json` (a test fails when it differs) and served at
//! `GET /api/openapi.json`.

use utoipa::ToSchema;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Schema,
};

/// Security scheme names, as the operations' `security(...)` use them.
pub const JWT: &str = "jwt";
pub const API_KEY: &str = "api_key";
pub const SHARE_UNLOCK: &str = "share_unlock";

/// An error answer: `{"code": 1, "msg": …, "data": null}`.
#[derive(utoipa::ToSchema)]
#[schema(as = ErrorEnvelope)]
#[allow(dead_code)]
pub struct ErrorEnvelope {
    /// Always 1.
    #[schema(minimum = 1, maximum = 1)]
    code: i32,
    /// What went wrong, for people.
    msg: String,
    #[schema(schema_with = null_schema)]
    data: (),
}

fn null_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::Null)
        .description(Some("Always null."))
}

/// A missing or invalid token's answer, as the Pingoo document shows it:
/// `{"error": "Authorization header required"}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuthError {
    error: String,
}

/// `site_id` of a beacon: a positive integer, or the same as a string (the original
/// tracker sent one).
pub fn site_id_schema() -> impl Into<RefOr<Schema>> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .item(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(
            "The site's numeric id (a number or a string of digits); \
             `tracking_id` wins when both are given.",
        ))
}

/// The document's frame: title, version, security schemes, the shared error schemas.
fn frame() -> OpenApi {
    let bearer = |format: &str, what: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format(format)
                .description(Some(what))
                .build(),
        )
    };
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Pingoo Serverless API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Privacy-friendly web analytics. Every JSON answer is the envelope \
                     `{code, msg, data}` (`code` 0 on success, 1 on error), except a missing \
                     or invalid token's 401, which is `{\"error\": …}`. Dates are \
                     `YYYY-MM-DD` or `YYYYMMDD`, read in the site's time zone.",
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .schema_from::<ErrorEnvelope>()
                .schema_from::<AuthError>()
                .responses_from_iter(COMMON.iter().map(|(name, what)| {
                    let schema = if *name == UNAUTHORIZED {
                        Schema::OneOf(
                            OneOfBuilder::new()
                                .item(Ref::from_schema_name(AuthError::name()))
                                .item(Ref::from_schema_name(ErrorEnvelope::name()))
                                .build(),
                        )
                        .into()
                    } else {
                        Ref::from_schema_name(ErrorEnvelope::name()).into()
                    };
                    (*name, error_answer(what, schema))
                }))
                .security_scheme(
                    JWT,
                    bearer(
                        "JWT",
                        "An access token from login, register or refresh (HS256, 24 h).",
                    ),
                )
                .security_scheme(
                    API_KEY,
                    bearer(
                        "pgo_…",
                        "An API key (POST /api/auth/keys): scope `read` for GETs on sites, \
                         events and statistics, `ingest` for POST /api/events.",
                    ),
                )
                .security_scheme(
                    SHARE_UNLOCK,
                    bearer(
                        "JWT",
                        "The unlock token of a password-protected share \
                         (POST /api/share/{token}/unlock).",
                    ),
                )
                .build(),
        ))
        .build()
}

/// The whole description: the frame, each function's operations, and the error answers
/// every operation can give ([`add_error_answers`]).
pub fn document(parts: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let mut doc = frame();
    for part in parts {
        doc.merge(part);
    }
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
        ]
        .into_iter()
        .flatten()
        {
            add_error_answers(op);
        }
    }
    doc
}

fn error_answer(what: &str, schema: RefOr<Schema>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(what)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

const BAD_REQUEST: &str = "BadRequest";
const NOT_FOUND: &str = "NotFound";
const SERVER_ERROR: &str = "ServerError";
const TOO_LARGE: &str = "PayloadTooLarge";
const FORBIDDEN: &str = "Forbidden";
const UNAUTHORIZED: &str = "Unauthorized";

/// The shared error answers (`components.responses`), by name.
const COMMON: [(&str, &str); 6] = [
    (
        BAD_REQUEST,
        "A parameter or the body is invalid (`msg` says which).",
    ),
    (NOT_FOUND, "No such resource, or not the caller's."),
    (SERVER_ERROR, "A failure of the server (never expected)."),
    (TOO_LARGE, "The body is over the operation's size limit."),
    (
        FORBIDDEN,
        "The credentials may not do this (an API key's scope, an account-only route, a limit).",
    ),
    (
        UNAUTHORIZED,
        "No token, or an invalid or expired one (`{\"error\"}`), or wrong credentials (the envelope).",
    ),
];

/// The answers the common layers give whatever the handler (`pingoo::http::service`,
/// the extractors, `ApiError`), added where an operation does not say more:
/// 400 (a bad parameter or body), 404, 500 (never expected); with a body, 413; with a
/// required security scheme, 401 (`{"error"}` for a missing or invalid token, the
/// envelope for wrong credentials) and 403 (a key's scope, or an account-only route).
pub fn add_error_answers(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|reqs| {
        !reqs.is_empty()
            && reqs.iter().all(|req| {
                serde_json::to_value(req)
                    .is_ok_and(|v| v.as_object().is_some_and(|o| !o.is_empty()))
            })
    });
    let mut answers = vec![
        ("400", BAD_REQUEST),
        ("404", NOT_FOUND),
        ("500", SERVER_ERROR),
    ];
    if op.request_body.is_some() {
        answers.push(("413", TOO_LARGE));
    }
    if secured {
        answers.push(("401", UNAUTHORIZED));
        answers.push(("403", FORBIDDEN));
    }
    for (status, name) in answers {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| Ref::new(format!("#/components/responses/{name}")).into());
    }
}
