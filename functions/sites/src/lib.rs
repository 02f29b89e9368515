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
use pingoo::envelope::{Envelope, Message, ok};
use pingoo::http::extract::{AuthUser, IdParam, JsonBody, QueryParams, ReadAccess};
use pingoo::shares::{CreateShare, ShareView};
use pingoo::sites::service::{self, CreateSite, ListQuery, UpdateSite, UsageQuery};
use pingoo::sites::{SiteList, SiteView};
use pingoo::stats::usage::Usage;
use pingoo::{ApiError, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Reply<T> = Result<Json<Envelope<T>>, ApiError>;

/// The routes with their OpenAPI description (each path is its handler's
/// `#[utoipa::path]`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, remove))
        .routes(routes!(clear_stats))
        .routes(routes!(usage))
        .routes(routes!(list_shares, create_share))
        .routes(routes!(revoke_share))
}

/// The routes, without fallbacks or layers, so the local runner can merge them.
pub fn routes() -> Router<AppState> {
    api().split_for_parts().0
}

/// This function's part of the OpenAPI description.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// What the Lambda runs.
pub fn router(state: AppState) -> Router {
    pingoo::http::service(routes(), state)
}

#[utoipa::path(post, operation_id = "create_site", path = "/api/sites", tag = "sites", summary = "Create a site",
    description = "`domain` is normalised (`scheme://host[:port]` or a bare host); `timezone` is an IANA name (default UTC) that defines the site's days.",
    request_body = CreateSite, security(("jwt" = [])),
    responses((status = 200, description = "The new site.", body = Envelope<SiteView>,
        links(("GetSite" = (operation_id = "get_site", parameters(("id" = "$response.body#/data/id")))),
            ("UpdateSite" = (operation_id = "update_site", parameters(("id" = "$response.body#/data/id")))),
            ("DeleteSite" = (operation_id = "delete_site", parameters(("id" = "$response.body#/data/id")))),
            ("GetSiteUsage" = (operation_id = "get_site_usage", parameters(("id" = "$response.body#/data/id")))),
            ("ClearSiteStats" = (operation_id = "clear_site_stats", parameters(("id" = "$response.body#/data/id")))),
            ("CreateShare" = (operation_id = "create_share", parameters(("id" = "$response.body#/data/id")))),
            ("ListShares" = (operation_id = "list_shares", parameters(("id" = "$response.body#/data/id"))))))))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<CreateSite>,
) -> Reply<SiteView> {
    Ok(ok(service::create(&state, &user, req).await?))
}

#[utoipa::path(get, operation_id = "list_sites", path = "/api/sites", tag = "sites", summary = "List the caller's sites",
    description = "Newest first. `limit` above 100 is read as 100. With `include=summary` each site also carries today's pv/uv and the last days' points.",
    params(ListQuery), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of sites.", body = Envelope<SiteList>)))]
async fn list(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    QueryParams(query): QueryParams<ListQuery>,
) -> Reply<SiteList> {
    Ok(ok(service::list(&state, &user, query).await?))
}

#[utoipa::path(get, operation_id = "get_site", path = "/api/sites/{id}", tag = "sites", summary = "Read a site",
    params(("id" = u64, Path, description = "The site's id.")), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "The site.", body = Envelope<SiteView>)))]
async fn get_one(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(id): IdParam,
) -> Reply<SiteView> {
    Ok(ok(service::owned(&state, &user, id).await?))
}

#[utoipa::path(put, operation_id = "update_site", path = "/api/sites/{id}", tag = "sites", summary = "Change a site's name, domain or time zone",
    params(("id" = u64, Path, description = "The site's id.")), request_body = UpdateSite, security(("jwt" = [])),
    responses((status = 200, description = "The changed site.", body = Envelope<SiteView>)))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
    JsonBody(req): JsonBody<UpdateSite>,
) -> Reply<SiteView> {
    Ok(ok(service::update(&state, &user, id, req).await?))
}

#[utoipa::path(delete, operation_id = "delete_site", path = "/api/sites/{id}", tag = "sites", summary = "Delete a site and its statistics",
    params(("id" = u64, Path, description = "The site's id.")), security(("jwt" = [])),
    responses((status = 200, description = "`data` is a message.", body = Envelope<String>),
        (status = 409, description = "The site changed concurrently; try again.", body = pingoo::openapi::ErrorEnvelope)))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
) -> Reply<&'static str> {
    service::delete(&state, &user, id).await?;
    Ok(ok("站点删除成功"))
}

#[utoipa::path(delete, operation_id = "clear_site_stats", path = "/api/sites/{id}/stats", tag = "sites", summary = "Clear a site's statistics",
    description = "Events and counters are unreachable at once and purged in the background.",
    params(("id" = u64, Path, description = "The site's id.")), security(("jwt" = [])),
    responses((status = 200, description = "`data.message` says it is done.", body = Envelope<Message>),
        (status = 409, description = "The site changed concurrently; try again.", body = pingoo::openapi::ErrorEnvelope)))]
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

#[utoipa::path(get, operation_id = "get_site_usage", path = "/api/sites/{id}/usage", tag = "sites", summary = "A month's stored events and their estimated cost",
    params(("id" = u64, Path, description = "The site's id."), UsageQuery), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "The month's usage.", body = Envelope<Usage>)))]
async fn usage(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(id): IdParam,
    QueryParams(query): QueryParams<UsageQuery>,
) -> Reply<Usage> {
    Ok(ok(service::usage(&state, &user, id, query).await?))
}

#[utoipa::path(post, operation_id = "create_share", path = "/api/sites/{id}/shares", tag = "shares", summary = "Share a site's statistics by link",
    description = "Optionally until `expires_at` (RFC 3339, in the future) and behind a password. At most 50 shares a site.",
    params(("id" = u64, Path, description = "The site's id.")), request_body = CreateShare, security(("jwt" = [])),
    responses((status = 200, description = "The share, with its token.", body = Envelope<ShareView>,
        links(("RevokeShare" = (operation_id = "revoke_share", parameters(("id" = "$request.path.id"), ("share_id" = "$response.body#/data/id")))),
            ("GetShare" = (operation_id = "get_share", parameters(("token" = "$response.body#/data/token"))))))))]
async fn create_share(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
    JsonBody(req): JsonBody<CreateShare>,
) -> Reply<ShareView> {
    Ok(ok(pingoo::shares::create(&state, &user, id, req).await?))
}

#[utoipa::path(get, operation_id = "list_shares", path = "/api/sites/{id}/shares", tag = "shares", summary = "List a site's shares",
    params(("id" = u64, Path, description = "The site's id.")), security(("jwt" = [])),
    responses((status = 200, description = "The site's shares.", body = Envelope<Vec<ShareView>>)))]
async fn list_shares(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
) -> Reply<Vec<ShareView>> {
    Ok(ok(pingoo::shares::list(&state, &user, id).await?))
}

#[utoipa::path(delete, operation_id = "revoke_share", path = "/api/sites/{id}/shares/{share_id}", tag = "shares", summary = "Revoke a share",
    params(("id" = u64, Path, description = "The site's id."), ("share_id" = u64, Path, description = "The share's id.")), security(("jwt" = [])),
    responses((status = 200, description = "`data` is a message.", body = Envelope<String>)))]
async fn revoke_share(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    pingoo::http::extract::IdPair(id, share_id): pingoo::http::extract::IdPair,
) -> Reply<&'static str> {
    pingoo::shares::revoke(&state, &user, id, share_id).await?;
    Ok(ok("share revoked"))
}
