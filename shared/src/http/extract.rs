//! Extractors whose every failure is an [`ApiError`] in the envelope.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::auth::keys;
use crate::auth::token::{Claims, TokenKind};
use crate::error::ApiError;
use crate::model::{KeyScope, User};
use crate::state::AppState;

/// A JSON body of at most `LIMIT` bytes (413 above). Parsed whatever the `Content-Type`
/// (the original API did the same), with errors that name the offending field.
pub struct JsonBody<T, const LIMIT: usize = { super::BODY_LIMIT }>(pub T);

impl<S: Send + Sync, T: DeserializeOwned, const LIMIT: usize> FromRequest<S>
    for JsonBody<T, LIMIT>
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req, LIMIT).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The whole body, or 413 when it is over `limit` bytes.
pub async fn read_body(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|err| {
            let inner = err.into_inner();
            if inner.is::<http_body_util::LengthLimitError>() {
                ApiError::PayloadTooLarge(limit)
            } else {
                ApiError::bad_request(format!("cannot read the request body: {inner}"))
            }
        })
}

/// Parses JSON with the path of the field at fault in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(ApiError::bad_request("request body must be a JSON object")),
        // serde's derived structs also accept a sequence of their fields in order, so
        // `[null, null]` would pass for `{}`: every body of this API is an object.
        Some(b'[') => {
            return Err(ApiError::bad_request(
                "request body must be a JSON object, not an array",
            ));
        }
        Some(_) => {}
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // serde_json appends " at line 1 column 44"; for a wrong field the name says more.
        let text = inner.to_string();
        let reason = text.split(" at line ").next().unwrap_or(&text);
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => {
                ApiError::bad_request(format!("invalid field `{path}`: {reason}"))
            }
            serde_json::error::Category::Data => {
                ApiError::bad_request(format!("invalid request body: {reason}"))
            }
            _ => ApiError::bad_request(format!("malformed JSON: {inner}")),
        }
    })
}

/// Query parameters; a bad value is a 400 naming the parameter.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| QueryParams(value))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                ApiError::bad_request(format!("invalid query parameter: {text}"))
            })
    }
}

/// A numeric id from the route's single path parameter (`/api/sites/{id}`).
pub struct IdParam(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for IdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        match raw.parse::<u64>() {
            Ok(id) if id > 0 => Ok(IdParam(id)),
            _ => Err(ApiError::bad_request(format!(
                "id must be a positive integer, got {raw:?}"
            ))),
        }
    }
}

/// Two numeric ids from a route's two path parameters (`/api/sites/{id}/shares/{share_id}`).
pub struct IdPair(pub u64, pub u64);

impl<S: Send + Sync> FromRequestParts<S> for IdPair {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((a, b)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        let id = |raw: &str| match raw.parse::<u64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => Err(ApiError::bad_request(format!(
                "id must be a positive integer, got {raw:?}"
            ))),
        };
        Ok(IdPair(id(&a)?, id(&b)?))
    }
}

/// What a route accepts as credentials. Each handler states its rule through the
/// extractor it takes: [`AuthUser`] (a user's JWT only), [`ReadAccess`] or
/// [`IngestAccess`] (a JWT, or an API key of that scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Account endpoints, site management, clearing statistics: a JWT; keys get 403.
    TokenOnly,
    /// A JWT, or an API key whose scope allows this.
    TokenOrKey(KeyScope),
}

/// The caller of a route that only a signed-in user may call (a valid, unrevoked access
/// token in `Authorization: Bearer …`). An API key gets 403 naming its scope. This is
/// the default: a new route accepts keys only if it says so.
pub struct AuthUser(pub User);

/// The caller of a read-only route: a JWT, or an API key with scope `read` or
/// `read_ingest`.
pub struct ReadAccess(pub User);

/// The caller of an ingesting route: a JWT, or an API key with scope `ingest` or
/// `read_ingest`.
pub struct IngestAccess(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, Access::TokenOnly)
            .await
            .map(AuthUser)
    }
}

impl FromRequestParts<AppState> for ReadAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, Access::TokenOrKey(KeyScope::Read))
            .await
            .map(ReadAccess)
    }
}

impl FromRequestParts<AppState> for IngestAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, Access::TokenOrKey(KeyScope::Ingest))
            .await
            .map(IngestAccess)
    }
}

/// The token of `Authorization: Bearer <token>` (`None` when the header is absent or
/// blank); a header of another form is a 401.
pub fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(header) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = header
        .to_str()
        .map_err(|_| ApiError::InvalidToken("authorization header is not valid text".into()))?
        .trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        _ => Err(ApiError::InvalidToken(
            "expected `Authorization: Bearer <token>`".into(),
        )),
    }
}

/// The one place a caller is authenticated: the bearer token is a JWT, or an API key
/// (`pgo_…`) checked against `access`. A bad JWT and an unknown or revoked key both
/// answer 401 `{"error": "Invalid token: …"}`; a valid key outside its scope 403.
pub async fn authenticate(
    parts: &Parts,
    state: &AppState,
    access: Access,
) -> Result<User, ApiError> {
    authenticate_with_claims(parts, state, access)
        .await
        .map(|(user, _)| user)
}

/// Like [`authenticate`], also answering the access token's claims (`None` for a key).
async fn authenticate_with_claims(
    parts: &Parts,
    state: &AppState,
    access: Access,
) -> Result<(User, Option<Claims>), ApiError> {
    let token = bearer(parts)?.ok_or(ApiError::MissingAuthorization)?;
    if keys::is_api_key(token) {
        let (key, user) = keys::authenticate(state, token).await?;
        match access {
            Access::TokenOnly => {
                return Err(ApiError::Forbidden(format!(
                    "API keys cannot be used here (this key has scope `{}`): sign in and use an access token",
                    key.scope.as_str()
                )));
            }
            Access::TokenOrKey(needed) if !key.scope.allows(needed) => {
                return Err(ApiError::Forbidden(format!(
                    "this API key has scope `{}`; this request needs scope `{}` or `read_ingest`",
                    key.scope.as_str(),
                    needed.as_str()
                )));
            }
            Access::TokenOrKey(_) => {}
        }
        keys::note_use(state, &key, chrono::Utc::now()).await;
        return Ok((user, None));
    }
    let claims = state
        .tokens
        .verify(token, TokenKind::Access)
        .map_err(ApiError::InvalidToken)?;
    let user_id = claims
        .user_id()
        .ok_or_else(|| ApiError::InvalidToken("token subject is malformed".into()))?;
    // The user (its token version) and the token's sign-in (its family), read together.
    let (user, ()) = futures::try_join!(
        async {
            state
                .db
                .get_user(user_id)
                .await?
                .ok_or_else(|| ApiError::InvalidToken("user no longer exists".into()))
        },
        crate::auth::sessions::check(state, &claims, user_id),
    )?;
    if user.token_version != claims.ver {
        return Err(ApiError::InvalidToken("token has been revoked".into()));
    }
    Ok((user, Some(claims)))
}

/// The caller of a route that acts on the sign-in itself (sign-out, e-mail change): a
/// user's access token, with its claims. API keys get 403, as for [`AuthUser`].
pub struct SignedIn {
    pub user: User,
    pub claims: Claims,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match authenticate_with_claims(parts, state, Access::TokenOnly).await? {
            (user, Some(claims)) => Ok(SignedIn { user, claims }),
            (_, None) => Err(ApiError::Forbidden(
                "API keys cannot be used here: sign in and use an access token".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: Option<u32>,
    }

    fn message(bytes: &[u8]) -> String {
        parse_json::<Body>(bytes).unwrap_err().to_string()
    }

    #[test]
    fn json_errors_name_the_field() {
        assert!(message(b"{\"email\": 5}").contains("`email`"));
        assert!(message(b"{\"email\": \"a\", \"age\": \"x\"}").contains("`age`"));
        assert!(message(b"{}").contains("missing field `email`"));
        assert!(message(b"{\"email\": ").starts_with("malformed JSON"));
        assert!(message(b"not json").starts_with("malformed JSON"));
        assert_eq!(message(b"  "), "request body must be a JSON object");
    }

    /// Found by schemathesis: `POST /api/sites/{id}/shares` with `[null, null]` created a
    /// share, because a derived struct also deserialises from a sequence of its fields.
    #[test]
    fn an_array_is_no_body_even_with_the_fields_in_order() {
        assert_eq!(
            message(b" [\"a@b.c\", 3]"),
            "request body must be a JSON object, not an array"
        );
        assert_eq!(
            parse_json::<crate::shares::CreateShare>(b"[null, null]")
                .unwrap_err()
                .to_string(),
            "request body must be a JSON object, not an array"
        );
        assert!(parse_json::<crate::shares::CreateShare>(b"{}").is_ok());
    }
}

/// Who sent the request: address, user agent, and where the page claims to be from.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// API Gateway's `requestContext.http.sourceIp`, or the TCP peer locally. Forwarding
    /// headers are ignored: a client can forge them.
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: String,
    pub origin: Option<String>,
    pub referer: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: axum::http::HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let lambda_ip = match parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
        {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => ctx
                .http
                .source_ip
                .as_deref()
                .and_then(crate::enrich::ip::parse_client_ip),
            _ => None,
        };
        let peer_ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientInfo {
            ip: lambda_ip
                .or(peer_ip)
                .map(|ip| crate::enrich::ip::parse_client_ip(&ip.to_string()).unwrap_or(ip)),
            user_agent: header(axum::http::header::USER_AGENT).unwrap_or_default(),
            origin: header(axum::http::header::ORIGIN),
            referer: header(axum::http::header::REFERER),
        })
    }
}
