//! The API's `{code, msg, data}` envelope.

use axum::Json;
use serde::Serialize;

/// `code` 0 is success; every error carries `code` 1 (see [`crate::error::ApiError`]).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    pub code: i32,
    pub msg: String,
    pub data: T,
}

/// A success: `{"code": 0, "msg": "success", "data": …}`.
pub fn ok<T: Serialize>(data: T) -> Json<Envelope<T>> {
    Json(Envelope {
        code: 0,
        msg: "success".to_owned(),
        data,
    })
}

/// A `{"message": …}` payload, as the spec's clear-stats answer uses.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub message: &'static str,
}
