//! One error type for the API, mapped to HTTP status and body in one place.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// Everything a request can fail with.
///
/// Authentication failures answer `{"error": …}` exactly as the spec shows; every other
/// error answers the envelope `{"code": 1, "msg": …, "data": null}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Authorization header required")]
    MissingAuthorization,
    #[error("Invalid token: {0}")]
    InvalidToken(String),
    #[error("{0}")]
    BadRequest(String),
    /// Wrong credentials (login, refresh token).
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method {0} is not allowed on this route")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("too many {what}; try again in {retry_after_secs} seconds")]
    TooManyRequests {
        what: Limited,
        retry_after_secs: u64,
    },
    /// A failure of ours or of AWS. The detail is logged, never sent.
    #[error("internal server error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a 429 limits (its message names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Logins,
    Registrations,
    PasswordChecks,
}

impl std::fmt::Display for Limited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limited::Logins => "failed logins",
            Limited::Registrations => "registrations from this network",
            Limited::PasswordChecks => "wrong passwords",
        })
    }
}

impl ApiError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::BadRequest(msg.into())
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(err))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingAuthorization | ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ApiError::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = match &self {
            ApiError::MissingAuthorization | ApiError::InvalidToken(_) => {
                (status, axum::Json(json!({ "error": self.to_string() }))).into_response()
            }
            _ => {
                if let ApiError::Internal(source) = &self {
                    tracing::error!(error = %source, "request failed");
                }
                // A struct, not a JSON map, so the fields keep the spec's order.
                let body = crate::envelope::Envelope {
                    code: 1,
                    msg: self.to_string(),
                    data: (),
                };
                (status, axum::Json(body)).into_response()
            }
        };
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(err: ApiError) -> (StatusCode, serde_json::Value) {
        let response = err.into_response();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn auth_errors_use_the_specs_error_shape() {
        let (status, body) = body(ApiError::MissingAuthorization).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, json!({"error": "Authorization header required"}));
        let (_, body) = body_of_invalid().await;
        assert_eq!(body, json!({"error": "Invalid token: token has expired"}));
    }

    async fn body_of_invalid() -> (StatusCode, serde_json::Value) {
        body(ApiError::InvalidToken("token has expired".into())).await
    }

    #[tokio::test]
    async fn other_errors_use_the_envelope() {
        let (status, body) = body(ApiError::Conflict("email already registered".into())).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            body,
            json!({"code": 1, "msg": "email already registered", "data": null})
        );
    }

    #[tokio::test]
    async fn internal_errors_hide_their_detail() {
        let err = ApiError::internal(std::io::Error::other("secret table name"));
        let (status, body) = body(err).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["msg"], "internal server error");
    }

    #[tokio::test]
    async fn too_many_requests_says_when_to_retry() {
        let response = ApiError::TooManyRequests {
            what: Limited::Registrations,
            retry_after_secs: 42,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
    }
}
