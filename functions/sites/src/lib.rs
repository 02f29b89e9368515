//! `/api/sites*`.
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/sites` | [`create`] |
//! | `GET /api/sites` | [`list`] |
//! | `GET /api/sites/{id}` | [`get_one`] |
//! | `PUT /api/sites/{id}` | [`update`] |
//! | `DELETE /api/sites/{id}` | [`remove`] |
//! | `DELETE /api/sites/{id}/stats` | [`clear_stats`] |
//! | `GET /api/sites/{id}/usage` | [`usage`] |
//! | `POST /api/sites/{id}/shares` | [`create_share`] |
//! | `GET /api/sites/{id}/shares` | [`list_shares`] |
//! | `DELETE /api/sites/{id}/shares/{share_id}` | [`revoke_share`] |
//!
//! The GETs take [`ReadAccess`] (a JWT or a `read` API key); creating, changing,
//! deleting and clearing take [`AuthUser`] (a JWT only).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{delete, get};
use pingoo::envelope::{Envelope, Message, ok};
use pingoo::http::extract::{AuthUser, IdParam, JsonBody, QueryParams, ReadAccess};
use pingoo::sites::service::{self, CreateSite, ListQuery, UpdateSite, UsageQuery};
use pingoo::sites::{SiteList, SiteView};
use pingoo::stats::usage::Usage;
use pingoo::{ApiError, AppState};

type Reply<T> = Result<Json<Envelope<T>>, ApiError>;

/// The routes, without fallbacks or layers, so the local runner can merge them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/sites", get(list).post(create))
        .route("/api/sites/{id}", get(get_one).put(update).delete(remove))
        .route("/api/sites/{id}/stats", delete(clear_stats))
        .route("/api/sites/{id}/usage", get(usage))
        .route(
            "/api/sites/{id}/shares",
            get(list_shares).post(create_share),
        )
        .route("/api/sites/{id}/shares/{share_id}", delete(revoke_share))
}

/// What the Lambda runs.
pub fn router(state: AppState) -> Router {
    pingoo::http::service(routes(), state)
}

async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<CreateSite>,
) -> Reply<SiteView> {
    Ok(ok(service::create(&state, &user, req).await?))
}

async fn list(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    QueryParams(query): QueryParams<ListQuery>,
) -> Reply<SiteList> {
    Ok(ok(service::list(&state, &user, query).await?))
}

async fn get_one(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(id): IdParam,
) -> Reply<SiteView> {
    Ok(ok(service::owned(&state, &user, id).await?))
}

async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
    JsonBody(req): JsonBody<UpdateSite>,
) -> Reply<SiteView> {
    Ok(ok(service::update(&state, &user, id, req).await?))
}

async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
) -> Reply<&'static str> {
    service::delete(&state, &user, id).await?;
    Ok(ok("站点删除成功"))
}

async fn clear_stats(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
) -> Reply<Message> {
    service::clear_stats(&state, &user, id).await?;
    Ok(ok(Message {
        message: "统计数据已清空",
    }))
}

async fn usage(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(id): IdParam,
    QueryParams(query): QueryParams<UsageQuery>,
) -> Reply<Usage> {
    Ok(ok(service::usage(&state, &user, id, query).await?))
}

async fn create_share(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
    JsonBody(req): JsonBody<pingoo::shares::CreateShare>,
) -> Reply<pingoo::shares::ShareView> {
    Ok(ok(pingoo::shares::create(&state, &user, id, req).await?))
}

async fn list_shares(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
) -> Reply<Vec<pingoo::shares::ShareView>> {
    Ok(ok(pingoo::shares::list(&state, &user, id).await?))
}

async fn revoke_share(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    pingoo::http::extract::IdPair(id, share_id): pingoo::http::extract::IdPair,
) -> Reply<&'static str> {
    pingoo::shares::revoke(&state, &user, id, share_id).await?;
    Ok(ok("share revoked"))
}
