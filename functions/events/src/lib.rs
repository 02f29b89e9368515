//! `/api/events*`: the event API, for a JWT or an API key. `POST` takes [`IngestAccess`]
//! (scope `ingest`), every GET [`ReadAccess`] (scope `read`).
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/events` | [`create`] |
//! | `GET /api/events/{site_id}` | [`list`] |
//! | `GET /api/events/{site_id}/stats` | [`stats`] |
//! | `GET /api/events/{site_id}/summary` | [`summary`] |
//! | `GET /api/events/{site_id}/breakdown` | [`breakdown`] |
//! | `GET /api/events/{site_id}/realtime` | [`realtime`] |
//! | `GET /api/events/{site_id}/export` | [`export`] (CSV) |
//! | `GET /api/share/{token}` | [`share_info`] (public) |
//! | `POST /api/share/{token}/unlock` | [`share_unlock`] (public) |
//! | `GET /api/share/{token}/summary` | [`share_summary`] (public) |
//! | `GET /api/share/{token}/stats` | [`share_stats`] (public) |
//! | `GET /api/share/{token}/breakdown` | [`share_breakdown`] (public) |
//! | `GET /api/share/{token}/realtime` | [`share_realtime`] (public) |

use axum::Json;
use axum::Router;
use axum::extract::State;
use pingoo::envelope::{Envelope, ok};
use pingoo::events::EventView;
use pingoo::events::service::{self, Caller, CreateEvent, EventList, ListEvents};
use pingoo::http::extract::{ClientInfo, IdParam, IngestAccess, JsonBody, QueryParams, ReadAccess};
use pingoo::openapi::ErrorEnvelope;
use pingoo::stats::query::{Ranking, Summary};
use pingoo::stats::rankings::Breakdown;
use pingoo::stats::realtime::Realtime;
use pingoo::stats::service::{self as stats_service, BreakdownQuery, StatsQuery, SummaryQuery};
use pingoo::{ApiError, AppState};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Reply<T> = Result<Json<Envelope<T>>, ApiError>;

/// Largest `POST /api/events` body.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The routes with their OpenAPI description (each path is its handler's
/// `#[utoipa::path]`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(list))
        .routes(routes!(stats))
        .routes(routes!(summary))
        .routes(routes!(breakdown))
        .routes(routes!(realtime))
        .routes(routes!(export))
        .routes(routes!(share_info))
        .routes(routes!(share_unlock))
        .routes(routes!(share_summary))
        .routes(routes!(share_stats))
        .routes(routes!(share_breakdown))
        .routes(routes!(share_realtime))
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

#[utoipa::path(post, operation_id = "create_event", path = "/api/events", tag = "events", summary = "Record an event from a server",
    description = "For a site's own backend (JWT, or an API key with scope `ingest`). `ip` and `user_agent` are the visitor's; absent, the request's are used. Body at most 16 KiB.",
    request_body = CreateEvent, security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "The stored event.", body = Envelope<EventView>)))]
async fn create(
    State(state): State<AppState>,
    IngestAccess(user): IngestAccess,
    client: ClientInfo,
    JsonBody(req): JsonBody<CreateEvent, BODY_LIMIT>,
) -> Reply<EventView> {
    let caller = Caller {
        ip: client.ip,
        user_agent: client.user_agent,
    };
    Ok(ok(service::create(&state, &user, req, caller).await?))
}

#[utoipa::path(get, operation_id = "list_events", path = "/api/events/{site_id}", tag = "events", summary = "List a site's events",
    description = "Newest first. `page_size` above 100 is read as 100. `start_time`/`end_time` are dates (`YYYY-MM-DD` or `YYYYMMDD`) or RFC 3339 times. Pass `next_cursor` as `cursor` for constant-cost paging.",
    params(("site_id" = u64, Path, description = "The site's id."), ListEvents), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of events.", body = Envelope<EventList>)))]
async fn list(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<ListEvents>,
) -> Reply<EventList> {
    Ok(ok(service::list(&state, &user, site_id, query).await?))
}

#[utoipa::path(get, operation_id = "get_ranking", path = "/api/events/{site_id}/stats", tag = "stats", summary = "A ranking: top urls, referrers, browsers, countries…",
    description = "`stat_type` is one of url (default), referrer, browser, os, device, country, city, isp, screen, event_type, bot. One `date`, or `start_date` and `end_date` (at most 366 days).",
    params(("site_id" = u64, Path, description = "The site's id."), StatsQuery), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of the ranking.", body = Envelope<Ranking>)))]
async fn stats(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<StatsQuery>,
) -> Reply<Ranking> {
    Ok(ok(
        stats_service::stats(&state, &user, site_id, query).await?
    ))
}

#[utoipa::path(get, operation_id = "get_summary", path = "/api/events/{site_id}/summary", tag = "stats", summary = "A day's or a range's figures",
    description = "pv, uv, ip, events, bounce rate, average duration, hours, and the week and month around the (last) day; a range adds one point a day. `compare=previous|year` adds the compared period.",
    params(("site_id" = u64, Path, description = "The site's id."), SummaryQuery), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "The figures.", body = Envelope<Summary>)))]
async fn summary(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<SummaryQuery>,
) -> Reply<Summary> {
    Ok(ok(
        stats_service::summary(&state, &user, site_id, query).await?
    ))
}

#[utoipa::path(get, operation_id = "get_breakdown", path = "/api/events/{site_id}/breakdown", tag = "stats", summary = "The top keys of several rankings at once",
    params(("site_id" = u64, Path, description = "The site's id."), BreakdownQuery), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "Each asked ranking's top keys, by stat type.", body = Envelope<BTreeMap<String, pingoo::stats::rankings::Top>>)))]
async fn breakdown(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<BreakdownQuery>,
) -> Reply<Breakdown> {
    Ok(ok(
        stats_service::breakdown(&state, &user, site_id, query).await?
    ))
}

#[utoipa::path(get, operation_id = "get_realtime", path = "/api/events/{site_id}/realtime", tag = "stats", summary = "Visitors of the last 5 minutes and page views of the last 30",
    params(("site_id" = u64, Path, description = "The site's id.")), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "The live figures.", body = Envelope<Realtime>)))]
async fn realtime(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
) -> Reply<Realtime> {
    Ok(ok(stats_service::realtime(
        &state,
        &user,
        site_id,
        stats_service::now(),
    )
    .await?))
}

#[utoipa::path(get, operation_id = "export_csv", path = "/api/events/{site_id}/export", tag = "stats", summary = "CSV export",
    description = "`kind=daily` (one row a day), `ranking` (with `stat_type`) or `events` (raw events, in parts of at most 10,000 rows; the `Link: rel=next` header carries the next part's URL).",
    params(("site_id" = u64, Path, description = "The site's id."), pingoo::export::ExportQuery), security(("jwt" = []), ("api_key" = [])),
    responses((status = 200, description = "The CSV file (UTF-8 with a BOM).", content_type = "text/csv", body = String,
        headers(("Content-Disposition" = String, description = "attachment; the file's name"),
            ("Link" = String, description = "kind=events with more rows: the next part, rel=\"next\"")))))]
async fn export(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    QueryParams(query): QueryParams<pingoo::export::ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    let csv = pingoo::export::export(&state, &user, site_id, query).await?;
    Ok(pingoo::export::response(csv, &uri))
}

/// A share token from the path, and the unlock token from `Authorization: Bearer`.
struct ShareAccess {
    token: String,
    bearer: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ShareAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let axum::extract::Path(token) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::NotFound("share not found".into()))?;
        // A header that is no bearer token unlocks nothing: the read then answers as a
        // locked share does.
        let bearer = pingoo::http::extract::bearer(parts)
            .ok()
            .flatten()
            .map(str::to_owned);
        Ok(ShareAccess { token, bearer })
    }
}

impl ShareAccess {
    async fn site(&self, state: &AppState) -> Result<pingoo::model::Site, ApiError> {
        pingoo::shares::site_for_read(state, &self.token, self.bearer.as_deref()).await
    }
}

#[utoipa::path(get, operation_id = "get_share", path = "/api/share/{token}", tag = "shares", summary = "What a share shows, and whether it needs a password",
    params(("token" = String, Path, description = "The share's token (from its link).")),
    responses((status = 200, description = "The shared site.", body = Envelope<pingoo::shares::PublicShare>)))]
async fn share_info(
    State(state): State<AppState>,
    access: ShareAccess,
) -> Reply<pingoo::shares::PublicShare> {
    Ok(ok(pingoo::shares::info(&state, &access.token).await?))
}

#[utoipa::path(post, operation_id = "unlock_share", path = "/api/share/{token}/unlock", tag = "shares", summary = "Unlock a password-protected share",
    params(("token" = String, Path, description = "The share's token (from its link).")), request_body = pingoo::shares::Unlock,
    responses((status = 200, description = "An unlock token, for `Authorization: Bearer` on the share's reads.", body = Envelope<pingoo::shares::Unlocked>),
        (status = 401, description = "Wrong password.", body = ErrorEnvelope),
        (status = 429, description = "Too many wrong passwords; `Retry-After` says when to try again.", body = ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn share_unlock(
    State(state): State<AppState>,
    access: ShareAccess,
    client: ClientInfo,
    JsonBody(req): JsonBody<pingoo::shares::Unlock>,
) -> Reply<pingoo::shares::Unlocked> {
    Ok(ok(pingoo::shares::unlock(
        &state,
        &access.token,
        req,
        client.ip,
    )
    .await?))
}

#[utoipa::path(get, operation_id = "get_share_summary", path = "/api/share/{token}/summary", tag = "shares", summary = "A shared site's summary",
    params(("token" = String, Path, description = "The share's token (from its link)."), SummaryQuery), security((), ("share_unlock" = [])),
    responses((status = 200, description = "As GET /api/events/{site_id}/summary.", body = Envelope<Summary>), (status = 401, description = "The share has a password: unlock it and send the unlock token.", body = ErrorEnvelope)))]
async fn share_summary(
    State(state): State<AppState>,
    access: ShareAccess,
    QueryParams(query): QueryParams<SummaryQuery>,
) -> Reply<Summary> {
    let site = access.site(&state).await?;
    Ok(ok(stats_service::summary_for(&state, &site, query).await?))
}

#[utoipa::path(get, operation_id = "get_share_ranking", path = "/api/share/{token}/stats", tag = "shares", summary = "A shared site's ranking",
    params(("token" = String, Path, description = "The share's token (from its link)."), StatsQuery), security((), ("share_unlock" = [])),
    responses((status = 200, description = "As GET /api/events/{site_id}/stats.", body = Envelope<Ranking>), (status = 401, description = "The share has a password: unlock it and send the unlock token.", body = ErrorEnvelope)))]
async fn share_stats(
    State(state): State<AppState>,
    access: ShareAccess,
    QueryParams(query): QueryParams<StatsQuery>,
) -> Reply<Ranking> {
    let site = access.site(&state).await?;
    Ok(ok(stats_service::stats_for(&state, &site, query).await?))
}

#[utoipa::path(get, operation_id = "get_share_breakdown", path = "/api/share/{token}/breakdown", tag = "shares", summary = "A shared site's breakdown",
    params(("token" = String, Path, description = "The share's token (from its link)."), BreakdownQuery), security((), ("share_unlock" = [])),
    responses((status = 200, description = "As GET /api/events/{site_id}/breakdown.", body = Envelope<BTreeMap<String, pingoo::stats::rankings::Top>>), (status = 401, description = "The share has a password: unlock it and send the unlock token.", body = ErrorEnvelope)))]
async fn share_breakdown(
    State(state): State<AppState>,
    access: ShareAccess,
    QueryParams(query): QueryParams<BreakdownQuery>,
) -> Reply<Breakdown> {
    let site = access.site(&state).await?;
    Ok(ok(stats_service::breakdown_for(&state, &site, query).await?))
}

#[utoipa::path(get, operation_id = "get_share_realtime", path = "/api/share/{token}/realtime", tag = "shares", summary = "A shared site's live figures",
    params(("token" = String, Path, description = "The share's token (from its link).")), security((), ("share_unlock" = [])),
    responses((status = 200, description = "As GET /api/events/{site_id}/realtime.", body = Envelope<Realtime>), (status = 401, description = "The share has a password: unlock it and send the unlock token.", body = ErrorEnvelope)))]
async fn share_realtime(State(state): State<AppState>, access: ShareAccess) -> Reply<Realtime> {
    let site = access.site(&state).await?;
    Ok(ok(stats_service::realtime_for(
        &state,
        &site,
        stats_service::now(),
    )
    .await?))
}
